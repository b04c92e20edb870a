import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { csrfOf } from '../helpers/agent.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import { signedInOperator } from '../helpers/operator.ts';
import type { TestServer } from '../helpers/server.ts';
import { operator, startLedgerServer } from './fixtures.ts';
import { seedBillableAccounts } from './seed.ts';

/**
 * The check reads the whole ledger, each run holding a connection of the server's pool throughout: an operator's
 * double click, a retrying script or several operators at once must not run it many times side by side.
 */
describe('the ledger check asked for many times at once', function () {
  this.timeout(120_000);
  const alice = randomBytes(32).toString('base64url');
  let ts: TestServer;

  before(async () => {
    ts = await startLedgerServer({}, { env: { OPERATOR_TOKENS: `alice:${alice}` } });
    const site = await registerTestSite(ts);
    // Books large enough that one check takes a while.
    const at = new Date(Date.now() - 5 * 86400_000);
    await seedBillableAccounts(ts.db, { count: 1_000, clientId: site.clientId, statementDay: 1, openedAt: new Date(at.getTime() - 86400_000), chargedAt: at });
    await ts.db.raw('ANALYZE');
  });
  after(() => ts?.stop());

  /** The server's connections inside a check's snapshot (a repeatable-read transaction: nothing else of ours opens one). */
  async function checksRunning(): Promise<number> {
    const r = await ts.db.raw(
      `SELECT count(*) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
         AND (query LIKE 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ%' OR query LIKE '%count(*) OVER ()%' OR query LIKE '%(SELECT count(*) FROM journal_entries) AS entries%')`,
    );
    return Number((r as { rows: Array<{ n: string }> }).rows[0]!.n);
  }

  it('runs one check at a time however many ask, from the API and the console, and answers each with it', async () => {
    const agent = await signedInOperator(ts.url, alice);
    const csrf = csrfOf(await (await agent.get('/admin/books')).text(), '/admin/books/check');
    let most = 0;
    let done = false;
    const watching = (async () => {
      while (!done) {
        most = Math.max(most, await checksRunning());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const asked = [
      ...Array.from({ length: 6 }, () => operator(ts, 'GET', '/admin/api/ledger/check', undefined, { authorization: `Bearer ${alice}` })),
      ...Array.from({ length: 2 }, () => agent.post('/admin/books/check', { csrf })),
    ];
    const answers = await Promise.all(asked);
    done = true;
    await watching;
    for (const a of answers) expect(a.status).to.equal(200);
    const api = answers.slice(0, 6) as Array<{ json: Record<string, unknown> }>;
    for (const a of api) expect(a.json.ok).to.equal(true);
    expect(most).to.be.greaterThan(0);
    expect(most).to.equal(1);
  });
});
