import { verifyCredentials } from '../../src/cards/verify-credentials.ts';
import { InvalidCredentialsError } from '../../src/errors.ts';
import { ForwardedAgent, csrfFrom } from './agent.ts';
import { uniqueIp } from './applicant.ts';
import type { TestServer } from './server.ts';

/**
 * A browser of its own client address, signed in to the holder's pages with this card (number and password); fails
 * unless the sign-in answers with its redirect.
 */
export async function signedInHolder(url: string, card: { cardNumber?: string; number?: string; password: string }): Promise<ForwardedAgent> {
  const agent = new ForwardedAgent(url, uniqueIp());
  const page = await (await agent.get('/card/signin')).text();
  const res = await agent.post('/card/signin', { csrf: csrfFrom(page), card_number: card.cardNumber ?? card.number ?? '', password: card.password });
  if (res.status !== 303) throw new Error(`holder sign-in answered ${res.status}`);
  return agent;
}

/** Whether this card number and password let their holder in (the cards domain's check): false for a wrong pair. */
export async function logsIn(ts: TestServer, number: string, password: string): Promise<boolean> {
  try {
    await verifyCredentials(ts.cm.cards, number, password);
    return true;
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return false;
    throw err;
  }
}
