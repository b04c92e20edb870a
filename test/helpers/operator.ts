import { ForwardedAgent, csrfFrom, csrfOf } from './agent.ts';
import { uniqueIp } from './applicant.ts';

/**
 * A browser of its own client address, signed in to the operator console with this operator token; fails unless
 * the sign-in answers with its redirect.
 */
export async function signedInOperator(url: string, token: string): Promise<ForwardedAgent> {
  const agent = new ForwardedAgent(url, uniqueIp());
  const page = await (await agent.get('/admin/signin')).text();
  const res = await agent.post('/admin/signin', { csrf: csrfFrom(page), token });
  if (res.status !== 303) throw new Error(`operator sign-in answered ${res.status}`);
  return agent;
}

/** Fetches a console page and posts the form for `action` on it with `fields` (its own CSRF token added). */
export async function postConsoleForm(agent: ForwardedAgent, pagePath: string, action: string, fields: Record<string, string>): Promise<Response> {
  const html = await (await agent.get(pagePath)).text();
  return agent.post(action, { csrf: csrfOf(html, action), ...fields });
}
