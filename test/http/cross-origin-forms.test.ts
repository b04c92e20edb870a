import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ForwardedAgent, csrfFrom, csrfOf, startInteraction } from '../helpers/agent.ts';
import { APPLY_SERVER, application, uniqueIp } from '../helpers/applicant.ts';
import { authRequest, issueTestCard, registerTestSite, siteClient } from '../helpers/fixtures.ts';
import { signedInHolder } from '../helpers/holder.ts';
import { alertText } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** Every row of every table, as one digest per table: what a refused post must leave exactly as it was. */
async function everyRow(ts: TestServer): Promise<Record<string, string>> {
  const tables = (await ts.db('pg_tables').where({ schemaname: 'public' }).pluck('tablename')) as string[];
  const out: Record<string, string> = {};
  for (const table of tables) {
    const r = await ts.db.raw(`SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest FROM ?? t`, [table]);
    out[table] = `${r.rows[0].n}:${r.rows[0].digest}`;
  }
  return out;
}

/** A form ready to post from a browser that has its page: where it goes and what it sends (its CSRF token included). */
interface ReadyForm {
  agent: ForwardedAgent;
  path: string;
  fields: Record<string, string>;
}

describe('hosted forms posted from another origin', () => {
  const operatorToken = randomBytes(32).toString('base64url');
  let ts: TestServer;
  /** Another port of the same host: the same site, another origin (the demo member site beside the card manager). */
  let sameSiteOrigin: string;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER, { env: { OPERATOR_TOKEN: operatorToken } });
    const port = Number(new URL(ts.url).port);
    sameSiteOrigin = `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}`;
  });
  after(() => ts?.stop());

  /** A signed-out browser on `page`, with the form posting to `path` filled in. */
  async function signedOutForm(page: string, path: string, fields: Record<string, string>): Promise<ReadyForm> {
    const agent = new ForwardedAgent(ts.url, uniqueIp());
    const html = await (await agent.get(page)).text();
    return { agent, path, fields: { csrf: csrfFrom(html), ...fields } };
  }

  const FORMS: Record<string, () => Promise<ReadyForm>> = {
    'the application for a card': () => {
      const a = application();
      return signedOutForm('/apply', '/apply', {
        legal_name: String(a.legal_name),
        birthdate: String(a.birthdate),
        email: String(a.email),
        mobile: String(a.mobile),
        password: String(a.password),
        password_confirm: String(a.password_confirm),
        accept_terms: 'yes',
      });
    },
    "the holder's sign-in": async () => {
      const card = await issueTestCard(ts);
      return signedOutForm('/card/signin', '/card/signin', { card_number: card.number, password: card.password });
    },
    'a lost card reported by number and password': async () => {
      const card = await issueTestCard(ts);
      return signedOutForm('/card/lost', '/card/lost', { card_number: card.number, password: card.password });
    },
    'the request for a password-reset code': async () => {
      const card = await issueTestCard(ts);
      return signedOutForm('/card/password/reset', '/card/password/reset/code', { card_number: card.number });
    },
    "a member site's login page": async () => {
      const card = await issueTestCard(ts);
      const site = await registerTestSite(ts);
      const agent = new ForwardedAgent(ts.url, uniqueIp());
      const { path, csrf } = await startInteraction(agent, (await authRequest(await siteClient(ts, site), site)).url);
      return { agent, path: `${path}/login`, fields: { csrf, card_number: card.number, password: card.password } };
    },
    "a member site's cancel button": async () => {
      const site = await registerTestSite(ts);
      const agent = new ForwardedAgent(ts.url, uniqueIp());
      const { path, csrf } = await startInteraction(agent, (await authRequest(await siteClient(ts, site), site)).url);
      return { agent, path: `${path}/abort`, fields: { csrf } };
    },
    "a signed-in holder's sign-out": async () => {
      const agent = await signedInHolder(ts.url, await issueTestCard(ts));
      const html = await (await agent.get('/card/account')).text();
      return { agent, path: '/card/signout', fields: { csrf: csrfOf(html, '/card/signout') } };
    },
    "the operator console's sign-in": () => signedOutForm('/admin/signin', '/admin/signin', { token: operatorToken }),
    "the operator console's sign-out": async () => {
      const agent = await signedInOperator(ts.url, operatorToken);
      const html = await (await agent.get('/admin/applications')).text();
      return { agent, path: '/admin/signout', fields: { csrf: csrfOf(html, '/admin/signout') } };
    },
  };

  /** Forged provenance: each alone makes a post from another origin. */
  const FORGED: Record<string, () => Record<string, string>> = {
    'Sec-Fetch-Site: same-site': () => ({ 'sec-fetch-site': 'same-site' }),
    'Sec-Fetch-Site: cross-site': () => ({ 'sec-fetch-site': 'cross-site' }),
    'Sec-Fetch-Site: same-site beside our own Origin': () => ({ 'sec-fetch-site': 'same-site', origin: new URL(ts.url).origin }),
    'an Origin on another port, without Sec-Fetch-Site': () => ({ origin: sameSiteOrigin }),
    'an Origin on another host, without Sec-Fetch-Site': () => ({ origin: 'https://evil.example.test' }),
  };

  /** What a browser sends from our own page (or an old client, nothing): each form must still work with it. */
  const GENUINE: Array<[string, () => Record<string, string>]> = [
    ['Sec-Fetch-Site: same-origin', () => ({ 'sec-fetch-site': 'same-origin', origin: new URL(ts.url).origin })],
    // Our Referrer-Policy (no-referrer) makes a browser send Origin: null on our own forms.
    ['Sec-Fetch-Site: same-origin and Origin: null', () => ({ 'sec-fetch-site': 'same-origin', origin: 'null' })],
    ['Sec-Fetch-Site: none', () => ({ 'sec-fetch-site': 'none' })],
    ['our own Origin, without Sec-Fetch-Site', () => ({ origin: new URL(ts.url).origin })],
    ['Origin: null alone (the token decides)', () => ({ origin: 'null' })],
    ['neither header (the token decides)', () => ({})],
  ];

  const post = (form: ReadyForm, headers: Record<string, string>) =>
    form.agent.request(form.path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form.fields).toString(),
    });

  Object.entries(FORMS).forEach(([name, ready], i) => {
    it(`refuses ${name} sent with forged provenance (403, every row unchanged), and takes it from our own page`, async () => {
      const form = await ready();
      for (const [how, headers] of Object.entries(FORGED)) {
        const before = await everyRow(ts);
        const res = await post(form, headers());
        const html = await res.text();
        expect(res.status, `${how}: ${html.slice(0, 300)}`).to.equal(403);
        expect(alertText(html), how).to.match(/^This form was sent from another website/);
        expect(await everyRow(ts), `${how}: rows after the refused post`).to.deep.equal(before);
      }
      // The very same form, as our own page sends it, is taken: the refusals above were the headers' doing.
      const [how, headers] = GENUINE[i % GENUINE.length]!;
      const before = await everyRow(ts);
      const res = await post(form, headers());
      expect(res.status, `${how}: ${(await res.text()).slice(0, 300)}`).to.be.oneOf([200, 201, 303]);
      expect(await everyRow(ts), `${how}: the form did its work`).to.not.deep.equal(before);
    });
  });

  it('says so in the browser’s language', async () => {
    const form = await FORMS["the holder's sign-in"]!();
    const res = await post(form, { 'sec-fetch-site': 'same-site', 'accept-language': 'ko' });
    expect(res.status).to.equal(403);
    expect(alertText(await res.text())).to.match(/^이 양식은 다른 웹사이트에서/);
  });

  it('still refuses a same-origin post without its token', async () => {
    const form = await FORMS["the holder's sign-in"]!();
    const before = await everyRow(ts);
    const res = await post({ ...form, fields: { ...form.fields, csrf: 'forged' } }, { 'sec-fetch-site': 'same-origin' });
    expect(res.status).to.equal(403);
    expect(alertText(await res.text())).to.match(/^This form has expired/);
    expect(await everyRow(ts)).to.deep.equal(before);
  });
});
