import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCard } from '../cards/create-card.ts';
import type { CardDeps } from '../cards/deps.ts';
import { findMemberSite, upsertResourceServer } from '../db/member-sites.ts';
import { registerMemberSite } from '../member-sites/register.ts';
import { updateSite } from '../member-sites/update.ts';

/** Development only, on http://localhost; the demo site is unrated (0, allowed whatever ratings are configured). */
const DEMO_RULES = { requireHttps: false, ratings: {} };

export interface DemoSeed {
  clientId: string;
  clientSecret: string;
  resource: string;
  card: { number: string; password: string };
}

/**
 * Development only: registers the demo member site and its API, and issues a demo card, once.
 * Their secrets are kept in <dataDir>/demo.json so every `npm start` can print them again.
 */
export async function seedDemo(cards: CardDeps, dataDir: string, demoUrl: string): Promise<DemoSeed> {
  const file = path.join(dataDir, 'demo.json');
  if (existsSync(file)) {
    const seed = JSON.parse(readFileSync(file, 'utf8')) as DemoSeed;
    const site = await findMemberSite(cards.db, seed.clientId);
    if (site) {
      // Started again at another address (DEMO_URL, DEMO_PORT), or seeded before it took Logout Tokens or approval
      // events: the demo's redirect, back-channel logout and approval events URIs follow it.
      if (
        !site.redirectUris.includes(`${demoUrl}/callback`) ||
        site.backchannelLogoutUri !== `${demoUrl}/backchannel-logout` ||
        !site.backchannelLogoutSessionRequired ||
        site.approvalEventsUri !== `${demoUrl}/approval-events`
      ) {
        await updateSite(
          { db: cards.db, ...DEMO_RULES },
          seed.clientId,
          { redirectUris: [`${demoUrl}/callback`], postLogoutRedirectUris: [`${demoUrl}/`], homepageUri: demoUrl, backchannelLogoutUri: `${demoUrl}/backchannel-logout`, backchannelLogoutSessionRequired: true, approvalEventsUri: `${demoUrl}/approval-events` },
          'dev-seed',
        );
      }
      return seed;
    }
  }
  const resource = `${demoUrl}/api`;
  await upsertResourceServer(cards.db, { identifier: resource, name: 'Demo member site API', scope: '', accessTokenTtl: null });
  const { clientId, clientSecret } = await registerMemberSite(
    { db: cards.db, ...DEMO_RULES },
    {
      clientId: `demo-${Date.now().toString(36)}`,
      name: 'Demo member site',
      redirectUris: [`${demoUrl}/callback`],
      postLogoutRedirectUris: [`${demoUrl}/`],
      tokenEndpointAuthMethod: 'client_secret_basic',
      resourceServers: [resource],
      homepageUri: demoUrl,
      // Its sessions end when the holder's at the card manager do (src/demo-site/logout-token.ts), each by its sid.
      backchannelLogoutUri: `${demoUrl}/backchannel-logout`,
      backchannelLogoutSessionRequired: true,
      // Told at once when a purchase's approval is revoked (src/demo-site/security-event.ts).
      approvalEventsUri: `${demoUrl}/approval-events`,
    },
    'dev-seed',
  );
  // An adult's credit line, so the demo's paid items and 19+ section can be bought.
  const issued = await createCard(cards, { legalName: 'Demo Holder', birthdate: '1990-05-17', creditLimit: 500_000 }, 'dev-seed');
  const seed: DemoSeed = {
    clientId,
    clientSecret: clientSecret!,
    resource,
    card: { number: issued.cardNumber, password: issued.password },
  };
  writeFileSync(file, JSON.stringify(seed, null, 2), { mode: 0o600 });
  return seed;
}
