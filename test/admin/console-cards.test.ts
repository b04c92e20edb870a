import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { luhnCheckDigit } from '../../src/lib/luhn.ts';
import { csrfOf, location, type ForwardedAgent } from '../helpers/agent.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import { alertText, unescapeHtml } from '../helpers/html.ts';
import { signedInOperator } from '../helpers/operator.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** The text of an element with this id, or undefined. */
function textOf(html: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(html);
  return m ? unescapeHtml(m[1]!).trim() : undefined;
}

describe('operator console: cards /admin/cards', () => {
  const alice = randomBytes(32).toString('base64url');
  const lines: string[] = [];
  let ts: TestServer;
  let agent: ForwardedAgent;

  before(async () => {
    ts = await startCardManager({ trustProxy: true, logLevel: 'info' }, { env: { OPERATOR_TOKENS: `alice:${alice}` }, logStream: { write: (l: string) => void lines.push(l) } });
    agent = await signedInOperator(ts.url, alice);
  });
  after(() => ts?.stop());

  async function csrf(): Promise<string> {
    return csrfOf(await (await agent.get('/admin/cards')).text(), '/admin/cards/search');
  }
  const cardRow = (id: string) => ts.db('cards').where({ id }).first('status', 'updated_at');

  it('finds a card by its number, posted in the form (never in a URL or a log line), and shows its holder', async () => {
    const card = await issueTestCard(ts, '1985-03-03', 'Park Cardholder');
    const spaced = card.number.replace(/(\d{4})(?=\d)/g, '$1 ');
    const res = await agent.post('/admin/cards/search', { csrf: await csrf(), number: spaced });
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const html = await res.text();
    expect(textOf(html, 'holder-name')).to.equal('Park Cardholder');
    expect(textOf(html, `status-${card.cardId}`)).to.equal('active');
    expect(html).to.include(`action="/admin/cards/${card.cardId}/block"`);
    expect(html).not.to.include(card.number);
    expect(lines.join('\n')).not.to.include(card.number).and.not.include(spaced);
  });

  it('blocks and unblocks a card with a reason, audited as the operator signed in', async () => {
    const card = await issueTestCard(ts);
    let page = await (await agent.get(`/admin/cards/${card.cardId}`)).text();
    const block = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: csrfOf(page, `/admin/cards/${card.cardId}/block`), reason: 'holder called: phone stolen' });
    expect(block.status).to.equal(303);
    page = await (await agent.get(location(block, ts.url))).text();
    expect(textOf(page, 'notice')).to.match(/^Blocked: /);
    expect(textOf(page, `status-${card.cardId}`)).to.equal('blocked');
    expect((await cardRow(card.cardId)).status).to.equal('suspended');
    const unblock = await agent.post(`/admin/cards/${card.cardId}/unblock`, { csrf: csrfOf(page, `/admin/cards/${card.cardId}/unblock`), reason: 'holder found it' });
    expect(unblock.status).to.equal(303);
    expect((await cardRow(card.cardId)).status).to.equal('active');
    const trail = await ts.db('audit_log').where({ subject_type: 'card', subject_id: card.cardId, action: 'card.status_changed' }).andWhere('actor', 'like', 'operator%').orderBy('id');
    expect(trail.map((e) => `${e.actor}: ${e.details.reason}`)).to.deep.equal(['operator:alice: holder called: phone stolen', 'operator:alice: holder found it']);
  });

  it('shows no notice for a `done` the console did not send, a name every object has included', async () => {
    const card = await issueTestCard(ts);
    for (const path of [`/admin/cards/${card.cardId}`, '/admin/applications', '/admin/disputes']) {
      for (const done of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'blocked!']) {
        const res = await agent.get(`${path}?done=${done}`);
        expect(res.status, `${path}?done=${done}`).to.equal(200);
        const html = await res.text();
        expect(html, `${path}?done=${done}`).not.to.include('id="notice"');
        expect(html).not.to.include('[native code]');
      }
    }
  });

  it('refuses bad input on every form with a 4xx, the form refilled, and the database unchanged', async () => {
    const card = await issueTestCard(ts);
    const token = await csrf();
    const audit = async () => (await ts.db('audit_log').count({ n: '*' }).first())?.n;
    const before = { card: await cardRow(card.cardId), audit: await audit() };

    const short = await agent.post('/admin/cards/search', { csrf: token, number: '1234' });
    expect(short.status).to.equal(400);
    const shortPage = await short.text();
    expect(textOf(shortPage, 'number-error')).to.equal('This is not a valid card number (16 digits).');
    expect(shortPage).to.include('name="number" inputmode="numeric" autocomplete="off" value="1234"');
    const empty = await agent.post('/admin/cards/search', { csrf: token, number: '' });
    expect(empty.status).to.equal(400);
    expect(textOf(await empty.text(), 'number-error')).to.equal('Enter the 16-digit card number.');
    // A well-formed number no card has.
    const body = card.number.slice(0, 14) + String((Number(card.number[14]) + 1) % 10);
    const other = body + String(luhnCheckDigit(body));
    const unknown = await agent.post('/admin/cards/search', { csrf: token, number: other });
    expect(unknown.status).to.equal(404);
    expect(textOf(await unknown.text(), 'number-error')).to.equal('No card has this number.');

    const noReason = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: token, reason: ' ' });
    expect(noReason.status).to.equal(400);
    expect(textOf(await noReason.text(), `reason-${card.cardId}-error`)).to.equal('Say why (it goes into the audit trail).');
    const long = 'z'.repeat(501);
    const tooLong = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: token, reason: long });
    expect(tooLong.status).to.equal(400);
    expect(await tooLong.text()).to.include(`id="reason-${card.cardId}" name="reason" value="${long}"`);
    // Unblocking lifts only a block: an active card is so already; a closed one cannot come back.
    const already = await agent.post(`/admin/cards/${card.cardId}/unblock`, { csrf: token, reason: 'nothing to lift' });
    expect(already.status).to.equal(303);
    expect(textOf(await (await agent.get(location(already, ts.url))).text(), 'notice')).to.equal('The card was so already: nothing changed.');
    expect((await agent.post('/admin/cards/not-a-card/block', { csrf: token, reason: 'x' })).status).to.equal(404);
    expect((await agent.post(`/admin/cards/${crypto.randomUUID()}/block`, { csrf: token, reason: 'x' })).status).to.equal(404);
    const forged = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: 'forged', reason: 'no token' });
    expect(forged.status).to.equal(403);

    expect({ card: await cardRow(card.cardId), audit: await audit() }).to.deep.equal(before);
  });

  it('refuses to block a closed card (409), saying why', async () => {
    const card = await issueTestCard(ts);
    await ts.db('cards').where({ id: card.cardId }).update({ status: 'closed' });
    const page = await (await agent.get(`/admin/cards/${card.cardId}`)).text();
    expect(page).not.to.include(`action="/admin/cards/${card.cardId}/block"`);
    const res = await agent.post(`/admin/cards/${card.cardId}/block`, { csrf: await csrf(), reason: 'try anyway' });
    expect(res.status).to.equal(409);
    expect(alertText(await res.text())).to.be.a('string').and.not.equal('');
    expect((await cardRow(card.cardId)).status).to.equal('closed');
  });
});
