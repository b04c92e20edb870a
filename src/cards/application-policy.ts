import { compileDenyList, type DenyList, type DenyListPatterns } from './deny-list.ts';

/** The conditions an application is checked against, from config.cards. */
export interface ApplicationPolicy {
  minimumAge: number;
  adultAge: number;
  duplicates: 'refuse' | 'review';
  denyList: DenyList;
  denyListAction: 'refuse' | 'review';
  limits: { perIpPerDay: number; perEmailPerDay: number };
  /** Open children's cards one guardian may vouch for. */
  maxWardsPerGuardian: number;
  /** Credit limits in minor units; a minor's is also capped by the guardian's. */
  creditLimit: { adult: number; minor: number };
  mobileCallingCode: string;
}

export interface CardSettings {
  minimumAge: number;
  adultAge: number;
  duplicates: 'refuse' | 'review';
  denyList: DenyListPatterns & { action: 'refuse' | 'review' };
  applicationLimits: { perIpPerDay: number; perEmailPerDay: number };
  maxWardsPerGuardian: number;
  creditLimit: { adult: number; minor: number };
  mobileCallingCode: string;
}

/** The policy from config.cards (deny-list patterns compiled once). */
export function applicationPolicy(s: CardSettings): ApplicationPolicy {
  return {
    minimumAge: s.minimumAge,
    adultAge: s.adultAge,
    duplicates: s.duplicates,
    denyList: compileDenyList(s.denyList, s.mobileCallingCode),
    denyListAction: s.denyList.action,
    limits: { ...s.applicationLimits },
    maxWardsPerGuardian: s.maxWardsPerGuardian,
    creditLimit: { ...s.creditLimit },
    mobileCallingCode: s.mobileCallingCode,
  };
}
