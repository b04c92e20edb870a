/**
 * Ledger benchmarks (issue 5).
 *
 * (h1, h2) Holds per second through our code — approve(): row lock, card and site checks, spending
 * controls, delinquency, approval number, the approval row, the balanced hold entry, the denormalised
 * balance, the audit entry — one commit per approval with synchronous_commit on, against a raw SQL
 * baseline of the same transaction (the same 12 statements between BEGIN and COMMIT) on plain pg, at
 * the same concurrency, in alternating slices. h1 spreads the load over distinct cards, h2 puts it
 * all on one hot card (every approval waits for the row lock). Target: ≥ 0.5× the raw rate.
 *
 * (b) The billing run over LEDGER_BENCH_CARDS (default 100,000) seeded cards, each with two captured
 * approvals, seeded in set-based SQL: cards per second and the process's peak memory while it runs,
 * beside a raw read of the same postings (one aggregate query) as the floor. Targets: ≥ 2,000 cards/s,
 * flat memory (peak heap growth independent of the card count: the run streams in keyset batches).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { approve } from '../../src/approvals/approve.ts';
import { openDb, type Db } from '../../src/db/knex.ts';
import { billingRun } from '../../src/ledger/billing-run.ts';
import { todayIn } from '../../src/ledger/calendar.ts';
import { ledgerDeps } from '../../src/ledger/deps.ts';
import { registerTestSite } from '../helpers/fixtures.ts';
import { seedBillableAccounts } from '../ledger/seed.ts';
import { BENCH_ROUNDS, CORES, emitFigures, figure, progress, round, runFor, sliceSeconds, Tally, type Figure } from './harness.ts';
import { withBenchCardManager } from './server.ts';

const CONCURRENCY = 8;
const DISTINCT_CARDS = 400;
const BILLING_CARDS = Number(process.env.LEDGER_BENCH_CARDS ?? 100_000);
if (!Number.isInteger(BILLING_CARDS) || BILLING_CARDS < 100) throw new Error('LEDGER_BENCH_CARDS must be a whole number ≥ 100');

interface Card {
  accountId: string;
  cardId: string;
}

/** Cards for the hold benchmarks: seeded accounts whose limit never runs out during the run. */
async function holdCards(db: Db, clientId: string, count: number): Promise<Card[]> {
  const opened = new Date(Date.now() - 86400_000);
  await seedBillableAccounts(db, { count, clientId, statementDay: 1, openedAt: opened, chargedAt: opened, chargesPerAccount: 1 });
  await db('accounts').update({ credit_limit: 1_000_000_000_000 });
  const rows = (await db('cards').select('id', 'account_id').orderBy('id')) as Array<{ id: string; account_id: string }>;
  return rows.map((r) => ({ accountId: r.account_id, cardId: r.id }));
}

/**
 * The same transaction as approve(), statement for statement, written out in raw SQL on a plain pg pool:
 * the baseline. It reads what approve() reads (the locked credit line, card, member site, spending
 * controls, the overdue-statement check, the approval number's uniqueness, the ledger account ids, the
 * account for the notification) and writes what it writes (approval, entry with its two postings,
 * balance, audit), so the ratio is the cost of our code around the SQL, not of doing less.
 */
function rawHold(pool: pg.Pool, clientId: string) {
  let n = 0;
  return async (card: Card, amount: number): Promise<void> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const line = await c.query('SELECT id, credit_limit, currency, posted_balance, held_amount FROM accounts WHERE id = $1 FOR UPDATE', [card.accountId]);
      const row = line.rows[0] as { credit_limit: number; posted_balance: number; held_amount: number };
      const found = await c.query('SELECT * FROM cards WHERE id = $1', [card.cardId]);
      if (found.rows[0]?.status !== 'active') throw new Error('card inactive');
      const site = await c.query('SELECT * FROM member_sites WHERE client_id = $1', [clientId]);
      if (site.rows[0]?.status !== 'active') throw new Error('site suspended');
      await c.query('SELECT max_per_approval, monthly_cap, blocked_sites, adult_content_off FROM accounts WHERE id = $1', [card.accountId]);
      const overdue = await c.query(
        `SELECT s.id FROM (SELECT $1::uuid AS account_id) x CROSS JOIN LATERAL (
           SELECT id, closing_balance, period_end, currency FROM statements WHERE account_id = x.account_id AND due_date + 5 < (now() AT TIME ZONE 'Asia/Seoul')::date
           ORDER BY statement_date DESC LIMIT 1) s
         LEFT JOIN LATERAL (SELECT sum(p.amount) AS credits FROM ledger_accounts la JOIN postings p ON p.ledger_account_id = la.id JOIN journal_entries e ON e.id = p.entry_id
           WHERE la.kind = 'receivable' AND la.owner_id = x.account_id::text AND p.amount < 0 AND e.created_at >= s.period_end) cr ON true
         WHERE s.closing_balance + COALESCE(cr.credits, 0) > 0`,
        [card.accountId],
      );
      if (overdue.rows.length) throw new Error('overdue');
      if (Number(row.credit_limit) - Number(row.posted_balance) - Number(row.held_amount) < amount) throw new Error('over limit');
      const id = randomUUID();
      const no = `R${process.pid}-${++n}`;
      await c.query('SELECT id FROM approvals WHERE approval_no = $1', [no]);
      await c.query(
        `INSERT INTO approvals (id, approval_no, account_id, card_id, client_id, status, amount, currency, description, content_ref, rating, hold_expires_at)
         VALUES ($1, $2, $3, $4, $5, 'approved', $6, 'KRW', 'bench', NULL, 0, now() + interval '7 days') RETURNING *`,
        [id, no, card.accountId, card.cardId, clientId, amount],
      );
      // The entry and its postings, each leg's ledger account found by kind and owner, in one statement.
      await c.query(
        `WITH a AS (SELECT v.n, l.id, v.amount FROM (VALUES (0, 'holds', $3::text, $4::bigint), (1, 'holds_control', '', $5::bigint)) AS v (n, kind, owner_id, amount)
                      JOIN ledger_accounts l ON l.kind = v.kind AND l.owner_id = v.owner_id AND l.currency = 'KRW'),
              e AS (INSERT INTO journal_entries (kind, approval_id, memo) VALUES ('hold', $1, $2) RETURNING id)
         INSERT INTO postings (entry_id, ledger_account_id, amount, currency)
         SELECT e.id, a.id, a.amount, 'KRW' FROM e, a ORDER BY a.n`,
        [id, `hold ${no}`, card.accountId, amount, -amount],
      );
      await c.query('UPDATE accounts SET held_amount = held_amount + $2 WHERE id = $1', [card.accountId, amount]);
      await c.query(
        "INSERT INTO audit_log (actor, action, subject_type, subject_id, details) VALUES ($1, 'approval.approved', 'approval', $2, $3)",
        [`card:${card.cardId}`, id, JSON.stringify({ approvalNo: no, clientId, amount, currency: 'KRW' })],
      );
      await c.query('SELECT * FROM accounts WHERE id = $1', [card.accountId]);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };
}

async function holdFigures(db: Db, databaseUrl: string, clientId: string): Promise<Figure[]> {
  const cards = await holdCards(db, clientId, DISTINCT_CARDS);
  const deps = { db, policy: { currency: 'KRW', holdSeconds: 604800 } };
  // Make the ledger accounts exist (our code creates them on first use; the raw baseline needs their ids).
  await approve(deps, { accountId: cards[0]!.accountId, cardId: cards[0]!.cardId, clientId, amount: 1, currency: 'KRW', description: 'warm', contentRef: null, rating: 0 });
  await db.raw("INSERT INTO ledger_accounts (kind, owner_id, currency) SELECT 'holds', account_id::text, 'KRW' FROM cards ON CONFLICT DO NOTHING");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: CONCURRENCY });
  const raw = rawHold(pool, clientId);
  const ours = (card: Card) =>
    approve(deps, { accountId: card.accountId, cardId: card.cardId, clientId, amount: 100, currency: 'KRW', description: 'bench', contentRef: null, rating: 0 });

  const figures: Figure[] = [];
  try {
    for (const [id, title, pick] of [
      ['h1', `holds on ${DISTINCT_CARDS} distinct cards`, (lane: number, i: number) => cards[(lane * 50 + i) % cards.length]!],
      ['h2', 'holds on one hot card', () => cards[1]!],
    ] as const) {
      progress(`(${id}) ${title}: ${BENCH_ROUNDS} rounds of ${sliceSeconds()} s per side at concurrency ${CONCURRENCY}`);
      const measured = new Tally();
      const baseline = new Tally();
      await runFor(0.5, CONCURRENCY, (lane) => ours(pick(lane, 0)).then(() => true));
      for (let r = 0; r < BENCH_ROUNDS; r++) {
        const counters = new Array(CONCURRENCY).fill(0) as number[];
        measured.add(await runFor(sliceSeconds(), CONCURRENCY, (lane) => ours(pick(lane, counters[lane]!++)).then(() => true)));
        baseline.add(await runFor(sliceSeconds(), CONCURRENCY, (lane) => raw(pick(lane, counters[lane]!++), 100).then(() => true)));
      }
      figures.push(
        figure({
          id,
          title,
          unit: 'holds/s',
          measured: measured.side('approve() (our code)', CONCURRENCY),
          baseline: baseline.side('the same transaction in raw SQL (pg)', CONCURRENCY),
          target: { ratio: 0.5 },
          serverCpu: false,
          notes: ['one commit per approval, synchronous_commit on; velocity limits off (a hot card would hit them)'],
        }),
      );
    }
  } finally {
    await pool.end();
  }
  return figures;
}

/** Samples this process's memory every 50 ms until stopped; returns the peaks. */
function memorySampler() {
  const start = process.memoryUsage();
  let peakHeap = start.heapUsed;
  let peakRss = start.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 50);
  return () => {
    clearInterval(timer);
    const mb = (b: number) => round(b / 1048576, 1);
    return { heapStartMb: mb(start.heapUsed), heapPeakMb: mb(peakHeap), heapGrowthMb: mb(peakHeap - start.heapUsed), rssStartMb: mb(start.rss), rssPeakMb: mb(peakRss) };
  };
}

async function billingFigure(db: Db, config: Parameters<typeof ledgerDeps>[0], clientId: string): Promise<Figure> {
  const tz = config.billing.timeZone;
  const d = new Date(`${todayIn(tz)}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 3);
  if (d.getUTCDate() > 28) d.setUTCDate(28);
  const date = d.toISOString().slice(0, 10);
  progress(`seeding ${BILLING_CARDS.toLocaleString('en-US')} cards with two captured approvals each (set-based SQL)`);
  const t0 = performance.now();
  await seedBillableAccounts(db, {
    count: BILLING_CARDS,
    clientId,
    statementDay: d.getUTCDate(),
    openedAt: new Date(d.getTime() - 20 * 86400_000),
    chargedAt: new Date(d.getTime() - 10 * 86400_000),
    chargesPerAccount: 2,
  });
  await db.raw('ANALYZE');
  progress(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s; raw read of the same postings (baseline)`);

  const baseline = new Tally();
  baseline.add(
    await runFor(0.001, 1, async () => {
      await db.raw(`SELECT a.id, sum(p.amount) FROM accounts a
        JOIN ledger_accounts la ON la.kind = 'receivable' AND la.owner_id = a.id::text
        JOIN postings p ON p.ledger_account_id = la.id JOIN journal_entries e ON e.id = p.entry_id GROUP BY a.id`);
      return true;
    }),
  );

  progress(`billing run for ${date} over every account`);
  const stopSampling = memorySampler();
  let scanned = 0;
  let statements = 0;
  const measured = new Tally();
  measured.add(
    await runFor(0.001, 1, async () => {
      const run = await billingRun(ledgerDeps(config, db), {
        date,
        onProgress: (p) => {
          if (Math.floor(p.scanned / 20000) !== Math.floor((p.scanned - config.billing.batchSize) / 20000)) {
            progress(`  ${p.scanned.toLocaleString('en-US')} accounts, ${p.statements.toLocaleString('en-US')} statements, ${Math.round(p.scanned / p.seconds)}/s`);
          }
        },
      });
      scanned = run.scanned;
      statements = run.statements;
      return true;
    }),
  );
  const memory = stopSampling();
  const perCard = (side: ReturnType<Tally['side']>, label: string) => {
    const perSecond = round(side.seconds > 0 ? scanned / side.seconds : 0, 1);
    return { ...side, label, ops: scanned, perSecond, perCore: round(perSecond / CORES, 1) };
  };
  const m = perCard(measured.side('billing run', 1), `billing run (batches of ${config.billing.batchSize})`);
  const b = perCard(baseline.side('raw read', 1), 'one aggregate SELECT of the same postings (no writes)');
  return {
    id: 'b',
    title: `billing run over ${BILLING_CARDS.toLocaleString('en-US')} cards`,
    unit: 'cards/s',
    measured: m,
    baseline: b,
    ratio: round(m.perSecond / b.perSecond, 3),
    serverCpuRatio: null,
    target: { text: '≥ 2,000 cards/s, flat memory', met: m.perSecond >= 2000 && statements >= BILLING_CARDS },
    notes: [
      `${statements.toLocaleString('en-US')} statements with ${(2 * statements).toLocaleString('en-US')} lines in ${m.seconds.toFixed(1)} s`,
      `memory: heap ${memory.heapStartMb} MB at start, peak ${memory.heapPeakMb} MB (+${memory.heapGrowthMb} MB); rss peak ${memory.rssPeakMb} MB (start ${memory.rssStartMb} MB)`,
    ],
  };
}

await withBenchCardManager(async (ts) => {
  // The bench's own pool: 8 lanes of approvals plus the raw baseline's own pool.
  const db = openDb({ databaseUrl: ts.config.databaseUrl, dataDir: ts.config.dataDir, poolMax: CONCURRENCY + 2 });
  try {
    const site = await registerTestSite(ts);
    const holds = await holdFigures(db, ts.config.databaseUrl!, site.clientId);
    const billing = await billingFigure(db, ts.config, site.clientId);
    emitFigures([...holds, billing]);
  } finally {
    await db.destroy();
  }
});
