import { expect } from 'chai';
import { cliActor } from '../../src/admin/cli-actor.ts';
import { APPLY_SERVER, issueByApplication, uniqueName } from '../helpers/applicant.ts';
import { runCli } from '../helpers/cli.ts';
import { logsIn } from '../helpers/holder.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';

/** `npm run cli -- cards …`: the operator's look-up, lost, reissue, close and audit trail, as a person at a shell. */
describe('npm run cli: an operator works a card', function () {
  this.timeout(120_000);
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager(APPLY_SERVER);
  });
  after(() => ts?.stop());

  it('finds the holder by card number, name or email, reports the card lost, reissues it, closes it and shows the trail, never printing an old number', async () => {
    const name = uniqueName('Cli');
    const h = await issueByApplication(ts, { legal_name: name });
    const last4 = h.cardNumber.slice(-4);

    // Looked up three ways, the same holder: the last four digits only.
    for (const by of [['--number', h.cardNumber.replace(/(\d{4})(?=\d)/g, '$1 ')], ['--name', name], ['--email', h.email.toUpperCase()]] as const) {
      const found = await runCli('cards', 'find', ...by);
      expect(found.code, found.stderr).to.equal(0);
      expect(found.stdout, by[0]).to.include(`account ${h.accountId}  ${name}`);
      expect(found.stdout, by[0]).to.include(`card ${h.cardId}  **** ${last4}  active`);
      expect(found.stdout, by[0]).to.not.include(h.cardNumber);
    }

    const lost = await runCli('cards', 'lost', '--card', h.cardNumber, '--reason', 'holder phoned: wallet stolen');
    expect(lost.code, lost.stderr).to.equal(0);
    expect(lost.stdout.trim()).to.equal(`card **** ${last4} is now lost`);
    expect(await logsIn(ts, h.cardNumber, h.password)).to.equal(false);

    const reissued = await runCli('cards', 'reissue', '--card', h.cardId, '--reason', 'after theft');
    expect(reissued.code, reissued.stderr).to.equal(0);
    const number = /card number: ([\d ]{19})/.exec(reissued.stdout)?.[1]?.replace(/ /g, '');
    const password = /password: +(\S.*)$/m.exec(reissued.stdout)?.[1];
    expect(number, reissued.stdout).to.match(/^\d{16}$/);
    expect(reissued.stdout).to.include('not shown again');
    expect(await logsIn(ts, number!, password!), 'the new card works').to.equal(true);
    expect(await logsIn(ts, h.cardNumber, h.password), 'the old number never again').to.equal(false);
    const newCard = await ts.db('cards').where({ account_id: h.accountId, status: 'active' }).first();

    const closed = await runCli('cards', 'close', '--card', newCard.id, '--reason', 'holder asked');
    expect(closed.code, closed.stderr).to.equal(0);
    expect(closed.stdout.trim()).to.equal(`card **** ${number!.slice(-4)} is now closed`);

    const audit = await runCli('cards', 'audit', '--card', newCard.id);
    expect(audit.code, audit.stderr).to.equal(0);
    const lines = audit.stdout.trim().split('\n');
    const actor = cliActor();
    const details = (l: string) => JSON.parse(l.slice(l.indexOf('{'))) as { from?: string; to?: string };
    const changes = lines.filter((l) => l.includes('card.status_changed')).map((l) => `${details(l).from}→${details(l).to}`);
    expect(changes).to.deep.equal(['pending→active', 'active→lost', 'pending→active', 'active→closed']);
    expect(lines.some((l) => l.includes(`  ${actor}  card.reissued  card:${h.cardId}`))).to.equal(true);
    expect(lines.some((l) => l.includes(`  ${actor}  card.status_changed  card:${newCard.id}`) && l.includes('holder asked'))).to.equal(true);
    expect(audit.stdout).to.not.include(h.cardNumber).and.to.not.include(number!);
  });

  it('says plainly when nobody is found, and refuses a card number no card has, exit 1, changing nothing', async () => {
    const none = await runCli('cards', 'find', '--name', uniqueName('Nobody'));
    expect(none.code, none.stderr).to.equal(0);
    expect(none.stdout.trim()).to.equal('no holder found');
    const h = await issueByApplication(ts);
    const other = `${h.cardNumber.slice(0, 15)}${(Number(h.cardNumber.slice(15)) + 5) % 10}`;
    const refused = await runCli('cards', 'close', '--card', other, '--reason', 'typo in the number');
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.equal('');
    expect((await ts.db('cards').where({ id: h.cardId }).first()).status).to.equal('active');
  });
});
