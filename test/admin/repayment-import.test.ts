import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { issueTestCard, type TestCard } from '../helpers/fixtures.ts';
import { testEnv } from '../helpers/global.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** A well-formed reference (valid check digits) that no account has. */
const NOBODY = 'CC00000000000195';

/** `repayments import`: each line not applied says why, under its own label, and the exit code says whether any needs the operator. */
describe('npm run cli -- repayments import', function () {
  this.timeout(120_000);
  let ts: TestServer;
  let card: TestCard;
  let reference: string;
  const tag = Date.now().toString(36);

  before(async () => {
    ts = await startCardManager();
    card = await issueTestCard(ts);
    reference = (await ts.db('accounts').where({ id: card.accountId }).first('payment_reference')).payment_reference;
  });
  after(() => ts.stop());

  let files = 0;
  function csv(...lines: string[]): string {
    const file = path.join(testEnv.dataDir, `transfers-${tag}-${++files}.csv`);
    writeFileSync(file, ['transaction_id,date,amount,currency,reference', ...lines, ''].join('\n'));
    return file;
  }
  const repayments = async () => Number((await ts.db('repayments').where({ account_id: card.accountId }).count({ n: '*' }).first())!.n);

  it('labels a conflict, a wrong currency, an unmatched and a malformed line apart, applies none of them, and exits 3; 0 when every line was applied or had been', async () => {
    const file = csv(`${tag}-1,2026-11-20,1000,KRW,${reference}`);
    const first = await runCli('repayments', 'import', '--file', file);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(new RegExp(`line 2: applied 1000 to account ${card.accountId}`));
    const again = await runCli('repayments', 'import', '--file', file);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.include(`line 2: already applied (${tag}-1), skipped`);
    expect(await repayments()).to.equal(1);

    const conflict = await runCli('repayments', 'import', '--file', csv(`${tag}-1,2026-11-20,1500,KRW,${reference}`));
    expect(conflict.code).to.equal(3);
    expect(conflict.stdout).to.match(new RegExp(`line 2: NOT APPLIED, conflict: transaction ${tag}-1 was already applied as repayment \\d+ \\(1000 KRW to account ${card.accountId} received 2026-11-20\\); this line has a different amount`));
    expect(conflict.stdout).to.include('conflicts: the bank transaction id was already applied as another repayment');
    expect(conflict.stdout).to.include('0 unmatched, 0 wrong currency, 1 conflicts, 0 malformed');

    const currency = await runCli('repayments', 'import', '--file', csv(`${tag}-2,2026-11-20,1000,USD,${reference}`));
    expect(currency.code).to.equal(3);
    expect(currency.stdout).to.include(`line 2: NOT APPLIED, wrong currency: the account's credit line is in KRW, the transfer in USD (${tag}-2, ${reference})`);
    expect(currency.stdout).to.include('wrong currency: ');

    const unmatched = await runCli('repayments', 'import', '--file', csv(`${tag}-3,2026-11-20,1000,KRW,${NOBODY}`));
    expect(unmatched.code).to.equal(3);
    expect(unmatched.stdout).to.include(`line 2: NOT APPLIED, unmatched: no account has this payment reference (${tag}-3, ${NOBODY})`);

    const malformed = await runCli('repayments', 'import', '--file', csv(`${tag}-4,2026-11-20,ten,KRW,${reference}`));
    expect(malformed.code).to.equal(3);
    expect(malformed.stdout).to.include('line 2: NOT APPLIED, malformed: amount "ten"');
    expect(await repayments()).to.equal(1);
  });

  describe('repayments add, run again', () => {
    it('applies a repayment with --transaction-id once however often it is run, and says a run without one records another each time', async () => {
      const before = await repayments();
      const args = ['repayments', 'add', '--card', card.cardId, '--amount', '300', '--transaction-id', `${tag}-add-1`];
      const first = await runCli(...args);
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.match(/^repayment \d+ of .* recorded on account /);
      const again = await runCli(...args);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(new RegExp(`^transaction ${tag}-add-1 was already applied \\(repayment \\d+\\); nothing changed`));
      expect(await repayments()).to.equal(before + 1);

      const bare = await runCli('repayments', 'add', '--card', card.cardId, '--amount', '200');
      expect(bare.code, bare.stderr).to.equal(0);
      expect(bare.stdout).to.include('no --transaction-id: running this command again records another repayment');
      expect(await repayments()).to.equal(before + 2);
    });
  });
});
