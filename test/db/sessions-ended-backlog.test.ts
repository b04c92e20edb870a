import { expect } from 'chai';
import { endExpiredHolderSessions } from '../../src/db/holder-sessions.ts';
import { endExpiredOperatorSessions } from '../../src/db/operator-sessions.ts';
import { issueTestCard } from '../helpers/fixtures.ts';
import type { TestServer } from '../helpers/server.ts';
import { startLedgerServer } from '../ledger/fixtures.ts';

/**
 * The periodic cleanup ends every expired session, each audited. After a while with the cleanup off, or a busy day,
 * there are more of them than one statement can carry audit rows for (PostgreSQL binds at most 65,535 values).
 */
describe('sessions ended by the cleanup: a backlog larger than one statement', function () {
  this.timeout(120_000);
  let ts: TestServer;
  const MANY = 12_000;

  before(async () => {
    ts = await startLedgerServer();
  });
  after(() => ts?.stop());

  const ended = async (action: string) => Number((await ts.db('audit_log').where({ action }).count({ n: '*' }).first())?.n);

  it('ends and audits every expired holder session, however many', async () => {
    const card = await issueTestCard(ts);
    await ts.db.raw(
      `INSERT INTO holder_sessions (id_hash, account_id, card_id, created_at, expires_at)
       SELECT sha256(('h' || g)::bytea), ?, ?, now() - interval '2 days', now() - interval '1 day' FROM generate_series(1, ?::int) g`,
      [card.accountId, card.cardId, MANY],
    );
    expect(await endExpiredHolderSessions(ts.db)).to.equal(MANY);
    expect(await ts.db('holder_sessions').where('expires_at', '<=', ts.db.fn.now())).to.have.length(0);
    expect(await ended('holder.session_ended')).to.equal(MANY);
  });

  it('ends and audits every expired operator session, however many', async () => {
    await ts.db.raw(
      `INSERT INTO operator_sessions (id_hash, actor, token_hash, created_at, expires_at)
       SELECT sha256(('o' || g)::bytea), 'operator:alice', 'x', now() - interval '2 hours', now() - interval '1 hour' FROM generate_series(1, ?::int) g`,
      [MANY],
    );
    expect(await endExpiredOperatorSessions(ts.db, 86_400)).to.equal(MANY);
    expect(await ts.db('operator_sessions')).to.have.length(0);
    expect(await ended('operator.session_ended')).to.equal(MANY);
  });
});
