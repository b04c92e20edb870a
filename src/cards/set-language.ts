import { appendAudit } from '../db/audit-log.ts';
import { setAccountLocale } from '../db/cards.ts';
import type { Db } from '../db/knex.ts';
import { inTransaction } from '../db/tx.ts';
import { NotFoundError } from '../errors.ts';
import type { Locale } from '../lib/i18n.ts';

export interface LanguageChange {
  accountId: string;
  /** Already checked against LOCALES at the edge. */
  locale: Locale;
  actor: string;
  requestId?: string | undefined;
}

export interface LanguageSet {
  from: Locale;
  to: Locale;
  changed: boolean;
}

/**
 * Sets the language the holder's notifications are written in, from the next one queued (messages already in the
 * outbox keep theirs). A change is audited; choosing the language already set changes and records nothing.
 */
export async function setLanguage(db: Db, c: LanguageChange): Promise<LanguageSet> {
  return inTransaction(db, async (trx) => {
    const from = await setAccountLocale(trx, c.accountId, c.locale);
    if (from === undefined) throw new NotFoundError('There is no such account.');
    const changed = from !== c.locale;
    if (changed) {
      await appendAudit(trx, {
        actor: c.actor,
        action: 'account.language_changed',
        subjectType: 'account',
        subjectId: c.accountId,
        details: { from, to: c.locale },
        requestId: c.requestId,
      });
    }
    return { from, to: c.locale, changed };
  });
}
