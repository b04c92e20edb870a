import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { STATEMENT_DAY_RANGE } from '../../src/ledger/change-statement-day.ts';
import { runCli, runCliWith } from '../helpers/cli.ts';
import { issueTestCard, registerTestSite, type TestCard, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/**
 * The CLI refuses as the operator API does (test/admin/operator-answers.test.ts): the same sentence, each field under
 * the option as typed, exit 1, and nothing changed.
 */
describe("npm run cli: every refusal in the operator API's language", function () {
  this.timeout(300_000);
  let ts: TestServer;
  let card: TestCard;
  let site: TestSite;
  const nobody = '00000000-0000-4000-8000-000000000000';

  before(async () => {
    ts = await startCardManager();
    card = await issueTestCard(ts);
    site = await registerTestSite(ts);
  });
  after(() => ts.stop());

  async function state() {
    const count = async (table: string) => Number((await ts.db(table).count({ n: '*' }).first())!.n);
    return {
      audit: await count('audit_log'),
      sites: await count('member_sites'),
      resourceServers: await count('resource_servers'),
      repayments: await count('repayments'),
      card: await ts.db('cards').where({ id: card.cardId }).first('status'),
      account: await ts.db('accounts').where({ id: card.accountId }).first('credit_limit'),
    };
  }

  it('prints the sentence, then each field under the option typed, and exits 1 with nothing changed', async () => {
    const before = await state();
    const shop = ['--name', 'Shop', '--redirect-uri', `https://shop-${randomBytes(3).toString('hex')}.example.test/cb`];
    const cases: Array<[string[], string]> = [
      [['cards', 'block', '--card', card.cardId, '--reason', 'r', '--wat'], 'error: Some fields need attention.\n  --wat: Unknown option.'],
      [['cards', 'block', '--card'], 'error: Some fields need attention.\n  --card: Give it a value.'],
      [['cards', 'block', '--card', card.cardId, 'stray'], 'error: Unexpected argument stray: this command takes options only.'],
      [['cards', 'block', '--reason', 'r'], 'error: Some fields need attention.\n  --card: Give a card id or number.'],
      [['cards', 'block', '--card', card.cardId], 'error: Some fields need attention.\n  --reason: Say why (it goes into the audit trail).'],
      [['cards', 'block', '--card', nobody, '--reason', 'r'], 'error: There is no such card. (--card)'],
      [['cards', 'block', '--card', '4000 0000 0000 0002', '--reason', 'r'], 'error: There is no such card. (--card)'],
      [['cards', 'limit', '--card', card.cardId, '--amount', '-1', '--reason', 'r'], 'error: Some fields need attention.\n  --amount: A value starting with a dash is given as --amount=VALUE.'],
      [['cards', 'limit', '--card', card.cardId, '--amount=-1', '--reason', 'r'], 'error: Some fields need attention.\n  --amount: A whole number of minor units from 0 to 1000000000000.'],
      [['cards', 'limit', '--card', card.cardId, '--amount', '1000000000001', '--reason', 'r'], 'error: Some fields need attention.\n  --amount: A whole number of minor units from 0 to 1000000000000.'],
      [['cards', 'create', '--name', 'Kim'], 'error: Some fields need attention.\n  --birthdate: Must be given.'],
      [['applications', 'show', 'xyz'], 'error: Some fields need attention.\n  ID: Not an application id.'],
      [['applications', 'approve', nobody], 'error: There is no such application. (ID)'],
      [['sites', 'register', '--redirect-uri', 'https://x.example.test/cb'], 'error: Some fields need attention.\n  --name: Must be given.'],
      [['sites', 'register', ...shop, '--rating', 'adult'], 'error: Some fields need attention.\n  --rating: Must be an age from 0 to 99.'],
      [['sites', 'register', ...shop, '--rating', '18'], 'error: Some fields need attention.\n  --rating: Must be one of the configured ratings: 0 (ALL), 12, 15, 19.'],
      [['sites', 'update', '--client-id', site.clientId, '--rating', '18'], 'error: Some fields need attention.\n  --rating: Must be one of the configured ratings: 0 (ALL), 12, 15, 19.'],
      [['sites', 'register', ...shop, '--access-token-ttl', '5'], 'error: Some fields need attention.\n  --access-token-ttl: Must be a whole number of seconds from 30 to 86400.'],
      [['sites', 'register', ...shop, '--jwks-file', '/nonexistent.json'], 'error: Some fields need attention.\n  --jwks-file: Cannot read /nonexistent.json.'],
      [['sites', 'update', '--client-id', site.clientId], 'error: Nothing to change.'],
      [['sites', 'suspend', '--client-id', 'nosuch', '--reason', 'r'], 'error: There is no member site nosuch. (--client-id)'],
      [['sites', 'rotate-secret', '--client-id', site.clientId, '--overlap', '9999999'], 'error: Some fields need attention.\n  --overlap: A whole number of seconds from 0 to 604800 (0 stops the old secret now).'],
      [['resource-servers', 'add', '--name', 'RS'], 'error: Some fields need attention.\n  --identifier: Must be given (an absolute URI).'],
      [['repayments', 'add', '--amount', '5'], 'error: Some fields need attention.\n  --card: Give either the card or the payment reference (exactly one).'],
      [['repayments', 'add', '--card', card.cardId, '--amount', '5', '--currency', 'USD'], "error: This account's credit line is in KRW. (--currency)"],
      [['repayments', 'add', '--reference', 'CC00000000000195', '--amount', '5'], 'error: No account has this payment reference. (--reference)'],
      [['settlement', 'report', '--month', '2026-01', '--format', 'xml'], 'error: Some fields need attention.\n  --format: One of json, csv.'],
      [['keys', 'withdraw', 'nokid'], 'error: There is no signing key nokid. (KID)'],
      // Positional arguments are named as the usage writes them: KIND is no option of `deliveries retry`.
      [['deliveries', 'retry', 'logotu', '5', '--reason', 'r'], 'error: Some fields need attention.\n  KIND: One of logout, event.'],
      [['deliveries', 'retry', 'event', 'abc', '--reason', 'r'], 'error: Some fields need attention.\n  ID: Not a delivery id.'],
      [['deliveries', 'retry', 'event', '--reason', 'r'], 'error: Some fields need attention.\n  KIND ID: Give the kind (logout or event) and the id.'],
      // The usage says yes|no: so does the refusal (true and false are taken too).
      [['sites', 'update', '--client-id', site.clientId, '--auto-capture', 'maybe'], 'error: Some fields need attention.\n  --auto-capture: Must be yes or no.'],
      [['sites', 'update', '--client-id', site.clientId, '--backchannel-logout-session-required', 'y'], 'error: Some fields need attention.\n  --backchannel-logout-session-required: Must be yes or no.'],
      [['ledger', 'statement-day', '--card', card.cardId, '--day', '29', '--reason', 'r'], `error: Some fields need attention.\n  --day: ${STATEMENT_DAY_RANGE}`],
    ];
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const results = await Promise.all(batch.map(([args]) => runCli(...args)));
      batch.forEach(([args, expected], j) => {
        const r = results[j]!;
        expect([r.code, r.stderr.trim()], args.join(' ')).to.deep.equal([1, expected]);
        expect(r.stdout, args.join(' ')).to.equal('');
      });
    }
    expect(await state()).to.deep.equal(before);
  });

  it('names the option where the API names the field: a taken client id, a reused transaction id', async () => {
    const id = `cli-taken-${randomBytes(3).toString('hex')}`;
    const uri = `https://${id}.example.test/cb`;
    expect((await runCli('sites', 'register', '--client-id', id, '--name', 'One', '--redirect-uri', uri)).code).to.equal(0);
    const taken = await runCli('sites', 'register', '--client-id', id, '--name', 'Two', '--redirect-uri', uri);
    expect([taken.code, taken.stderr.trim()]).to.deep.equal([1, `error: A member site ${id} exists already.\n  --client-id: Taken by another member site.`]);
    expect((await runCli('repayments', 'add', '--card', card.cardId, '--amount', '5', '--transaction-id', `T-${id}`)).code).to.equal(0);
    const reused = await runCli('repayments', 'add', '--card', card.cardId, '--amount', '6', '--transaction-id', `T-${id}`);
    expect(reused.code).to.equal(1);
    expect(reused.stderr.trim()).to.match(new RegExp(`^error: Transaction T-${id} was already applied \\(repayment \\d+\\) with a different amount; nothing was changed\\. \\(--transaction-id\\)$`));
  });
});

describe('npm run cli: the usage', function () {
  this.timeout(120_000);

  it('is printed for a command it does not know, exit 2, and its exit statuses name every command that exits 3', async () => {
    const r = await runCli('no-such-command');
    expect(r.code).to.equal(2);
    const exitStatus = r.stderr.slice(r.stderr.indexOf('exit status:')).replace(/\s+/g, ' ');
    // Both exit 3 for a scheduler to alert on (admin/ledger-cli.ts): an import that left lines, books that do not add up.
    expect(exitStatus).to.match(/3 [^;]*repayments import/);
    expect(exitStatus).to.match(/3 [^;]*ledger check/);
  });

  it('is not what a database it cannot reach gets: one line naming where, without the password, exit 1', async () => {
    const r = await runCliWith({ DATABASE_URL: 'postgres://ops:s3cret-pw@127.0.0.1:1/cybercard' }, 'sites', 'list');
    expect(r.code).to.equal(1);
    expect(r.stderr.trim().split('\n').at(-1)).to.match(/^error: cannot reach or open the database at 127\.0\.0\.1:1\/cybercard: \S/);
    expect(r.stderr).not.to.include('s3cret-pw');
  });

  it('is the answer to --help, -h or help: on stdout, exit 0, since asking for it is no mistake', async () => {
    for (const ask of ['--help', '-h', 'help']) {
      const r = await runCli(ask);
      expect([ask, r.code, r.stderr]).to.deep.equal([ask, 0, '']);
      expect(r.stdout).to.match(/^usage: npm run cli -- <command> \[options\]/);
      expect(r.stdout).to.include('keys rotate');
    }
  });
});
