import argon2 from 'argon2';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { cardNumberHmac } from '../../src/cards/card-number.ts';
import { luhnValid } from '../../src/lib/luhn.ts';
import { Agent, runLogin } from '../helpers/agent.ts';
import { authRequest, siteClient, type TestSite } from '../helpers/fixtures.ts';
import { startCardManager, type TestServer } from '../helpers/server.ts';
import { upsertResourceServer } from '../../src/db/member-sites.ts';
import { connect } from '../helpers/db.ts';
import { runCli } from '../helpers/cli.ts';
import { testEnv } from '../helpers/global.ts';
import { e164, uniqueEmail, uniqueMobile } from '../helpers/applicant.ts';

/** `npm run cli -- …` as an operator runs it, on the run's database. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(...args);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('npm run cli -- sites …', function () {
  this.timeout(120_000);

  it('registers, shows, updates, rotates, suspends, lists, reinstates and closes a member site', async () => {
    const db = connect(testEnv.databaseUrl, 2);
    const resource = `https://api-${randomBytes(4).toString('hex')}.example.test/`;
    try {
      await upsertResourceServer(db, { identifier: resource, name: 'CLI API', scope: '', accessTokenTtl: null });
    } finally {
      await db.destroy();
    }
    const id = `cli-${randomBytes(4).toString('hex')}`;
    const reg = await cli('sites', 'register', '--client-id', id, '--name', 'CLI shop', '--redirect-uri', 'https://cli-shop.example.test/cb', '--resource', resource, '--rating', '19', '--max-amount', '30000');
    expect(reg.code, reg.err).to.equal(0);
    expect(reg.out).to.match(/client_secret: \S{30,}/);

    const upd = await cli('sites', 'update', '--client-id', id, '--name', 'CLI shop renamed', '--access-token-ttl', '120', '--auto-capture', 'yes');
    expect(upd.code, upd.err).to.equal(0);
    expect(JSON.parse(upd.out)).to.include({ name: 'CLI shop renamed', access_token_ttl: 120, content_rating: 19, max_amount: 30000, auto_capture: true });
    const manual = await cli('sites', 'update', '--client-id', id, '--auto-capture', 'no');
    expect(JSON.parse(manual.out)).to.include({ name: 'CLI shop renamed', auto_capture: false });
    const narrowed = await cli('sites', 'update', '--client-id', id, '--claims', 'name age_over_19');
    expect(narrowed.code, narrowed.err).to.equal(0);
    expect(JSON.parse(narrowed.out).allowed_claims).to.deep.equal(['name', 'age_over_19']);
    const unknown = await cli('sites', 'update', '--client-id', id, '--claims', 'email');
    expect(unknown.code).to.equal(1);
    expect(unknown.err).to.include('--claims: Must be among sub, name, birthdate');
    expect(JSON.parse((await cli('sites', 'update', '--client-id', id, '--claims', 'any')).out).allowed_claims).to.equal(null);

    const rot = await cli('sites', 'rotate-secret', '--client-id', id, '--overlap', '600');
    expect(rot.code, rot.err).to.equal(0);
    expect(rot.out).to.match(/client_secret: \S{30,}/).and.match(/works until: \d{4}-/);

    const sus = await cli('sites', 'suspend', '--client-id', id, '--reason', 'complaints');
    expect(JSON.parse(sus.out)).to.include({ status: 'suspended', status_reason: 'complaints' });
    const list = await cli('sites', 'list', '--status', 'suspended');
    expect(list.out).to.include(`${id}\tsuspended\tCLI shop renamed`);
    const shown = await cli('sites', 'show', '--client-id', id);
    expect(JSON.parse(shown.out)).to.include({ client_id: id, status: 'suspended' });
    expect(shown.out).to.not.match(/[0-9a-f]{64}/);
    expect(JSON.parse((await cli('sites', 'reinstate', '--client-id', id, '--reason', 'resolved')).out).status).to.equal('active');
    expect(JSON.parse((await cli('sites', 'close', '--client-id', id, '--reason', 'gone')).out).status).to.equal('closed');
  });

  it('registers a resource server once, replaces it only when told, and audits both', async () => {
    const identifier = `https://rs-${randomBytes(4).toString('hex')}.example.test/api`;
    const first = await cli('resource-servers', 'add', '--identifier', identifier, '--name', 'RS', '--scope', 'read write', '--ttl', '120');
    expect([first.code, first.out.trim()]).to.deep.equal([0, `resource server ${identifier} registered`]);
    const again = await cli('resource-servers', 'add', '--identifier', identifier, '--name', 'RS again');
    expect(again.code).to.equal(1);
    expect(again.err).to.match(/is registered already \(RS\); give --replace/);
    const db = connect(testEnv.databaseUrl, 2);
    try {
      const row = async () => db('resource_servers').where({ identifier }).first('name', 'scope', 'access_token_ttl');
      expect(await row()).to.deep.equal({ name: 'RS', scope: 'read write', access_token_ttl: 120 });
      const replaced = await cli('resource-servers', 'add', '--identifier', identifier, '--name', 'RS v2', '--scope', 'read', '--replace');
      expect([replaced.code, replaced.out.trim()]).to.deep.equal([0, `resource server ${identifier} replaced`]);
      expect(await row()).to.deep.equal({ name: 'RS v2', scope: 'read', access_token_ttl: null });
      const audit = await db('audit_log').where({ subject_type: 'resource_server', subject_id: identifier }).orderBy('id').select('action', 'actor', 'details');
      expect(audit.map((a: { action: string }) => a.action)).to.deep.equal(['resource_server.registered', 'resource_server.replaced']);
      expect(audit[1].details.before).to.deep.equal({ name: 'RS', scope: 'read write', accessTokenTtl: 120 });
    } finally {
      await db.destroy();
    }
  });

  it('lists the resource servers with the sites each is granted to, closed ones marked, and one granted to none', async () => {
    const [held, spare] = [`https://rs-${randomBytes(4).toString('hex')}.example.test/`, `https://rs-${randomBytes(4).toString('hex')}.example.test/`];
    const db = connect(testEnv.databaseUrl, 2);
    try {
      await upsertResourceServer(db, { identifier: held, name: 'Held API', scope: 'read write', accessTokenTtl: 300 });
      await upsertResourceServer(db, { identifier: spare, name: 'Spare API', scope: '', accessTokenTtl: null });
    } finally {
      await db.destroy();
    }
    const [a, b] = [`cli-${randomBytes(4).toString('hex')}`, `cli-${randomBytes(4).toString('hex')}`];
    for (const id of [a, b]) {
      const reg = await cli('sites', 'register', '--client-id', id, '--name', id, '--redirect-uri', `https://${id}.example.test/cb`, '--resource', held);
      expect(reg.code, reg.err).to.equal(0);
    }
    expect((await cli('sites', 'close', '--client-id', b, '--reason', 'gone')).code).to.equal(0);
    const list = await cli('resource-servers', 'list');
    expect(list.code, list.err).to.equal(0);
    const lines = list.out.split('\n');
    expect(lines).to.include(`${held}\tHeld API\tread write\t300\t${[a, `${b} (closed)`].sort().join(', ')}`);
    expect(lines).to.include(`${spare}\tSpare API\t-\tdefault\t-`);
    const extra = await cli('resource-servers', 'list', '--status', 'active');
    expect(extra.code).to.equal(1);
    expect(extra.err).to.match(/--status/);
    const help = await cli('--help');
    expect(help.out).to.include('resource-servers list');
  });

  it('refuses bad input with a message and exit code 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sites', 'register', '--name', 'x', '--redirect-uri', 'https://*.example.test/cb'], /--redirect-uri: Must not contain wildcards \(item 0\)\./],
      [['sites', 'register', '--name', 'x', '--redirect-uri', 'https://shop.example.test/cb', '--post-logout-uri', 'https://elsewhere.example.test/'], /--post-logout-uri: Must be on the origin of the redirect URIs \(https:\/\/shop.example.test\)/],
      [['sites', 'suspend', '--client-id', 'no-such-site'], /--reason: Say why/],
      [['sites', 'update', '--name', 'x'], /--client-id: Must be given\./],
      [['sites', 'register', '--name', 'x', '--redirect-uri', 'https://shop.example.test/cb', '--auto-capture', 'maybe'], /--auto-capture: Must be yes or no\./],
      [['sites', 'list', '--status', 'deleted'], /--status: Must be one of active, suspended, closed\./],
      // A typo in the overlap must not leave the old secret working for the default day.
      [['sites', 'rotate-secret', '--client-id', 'no-such-site', '--overlap', '0s'], /--overlap: A whole number of seconds from 0 to 604800/],
      [['resource-servers', 'add', '--identifier', 'https://x.example.test/', '--name', 'X', '--ttl', 'abc'], /--ttl: A whole number of seconds from 1 to 999999, not "abc"\./],
      [['resource-servers', 'add', '--identifier', 'https://x.example.test/', '--name', 'X', '--scope', '!!bad scope"'], /Scopes are words of visible characters/],
      // The consent page names the API by it: one line, in the order it was written.
      [['resource-servers', 'add', '--identifier', 'https://x.example.test/', '--name', 'Videos \u202eetius'], /--name: Must not contain control characters\./],
      [['resource-servers', 'add', '--identifier', 'https://x.example.test/', '--name', 'Videos\n(read)'], /--name: Must not contain control characters\./],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.err, args.join(' ')).to.match(message);
    }
    const db = connect(testEnv.databaseUrl, 2);
    try {
      expect(await db('resource_servers').where({ identifier: 'https://x.example.test/' }).first()).to.equal(undefined);
    } finally {
      await db.destroy();
    }
  });
});

describe('npm run cli -- cards create', function () {
  this.timeout(120_000);

  it('issues an adult the configured credit limit, contacts stored as online applications store them', async () => {
    const [email, mobile] = [uniqueEmail('Cli.Adult'), uniqueMobile()];
    const r = await cli('cards', 'create', '--name', 'Cli Adult', '--birthdate', '1985-04-02', '--email', email.toUpperCase(), '--mobile', mobile);
    expect(r.code, r.err).to.equal(0);
    const accountId = /account (\S+)/.exec(r.out)![1]!;
    const db = connect(testEnv.databaseUrl, 2);
    try {
      const row = await db('accounts').where({ id: accountId }).first();
      expect(Number(row.credit_limit)).to.equal(500_000);
      expect(row.email).to.equal(email.toLowerCase());
      expect(row.mobile).to.equal(e164(mobile));
      // The same email or mobile again (another holder's, open card) is refused, as for an application, and nothing is issued.
      const accounts = Number((await db('accounts').count({ n: '*' }).first())!.n);
      const twiceMail = await cli('cards', 'create', '--name', 'Other Person', '--birthdate', '1990-01-01', '--email', email);
      const twiceMobile = await cli('cards', 'create', '--name', 'Other Person', '--birthdate', '1990-01-01', '--mobile', mobile);
      expect([twiceMail.code, twiceMobile.code]).to.deep.equal([1, 1]);
      expect(twiceMail.err).to.match(/email: Another cyber card holder has this email address/);
      expect(twiceMobile.err).to.match(/mobile: Another cyber card holder has this mobile number/);
      expect(Number((await db('accounts').count({ n: '*' }).first())!.n)).to.equal(accounts);
    } finally {
      await db.destroy();
    }
  });

  it('refuses what an online application would refuse, field by field, and issues nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--name', 'Too Young', '--birthdate', '2020-01-01'], /birthdate: .*minor applies online/],
      [['--name', 'Not Born', '--birthdate', '2099-01-01'], /birthdate: /],
      [['--name', 'Bad Date', '--birthdate', '2011-02-30'], /birthdate: /],
      [['--name', 'Bad Mail', '--birthdate', '1980-01-01', '--email', 'notanemail'], /email: /],
      [['--name', 'Bad Mobile', '--birthdate', '1980-01-01', '--mobile', 'abc'], /mobile: /],
    ];
    for (const [args, message] of cases) {
      const r = await cli('cards', 'create', ...args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.err, args.join(' ')).to.match(message);
      expect(r.out, args.join(' ')).to.not.match(/card number/);
    }
  });
});

describe('a member site and a card made with the CLI, at the provider', function () {
  this.timeout(120_000);
  let ts: TestServer;

  before(async () => {
    ts = await startCardManager();
  });
  after(() => ts?.stop());

  it('logs the printed card in at the printed site: secret shown once and kept hashed, number as HMAC and last four, password argon2id with the pepper', async () => {
    const tag = randomBytes(4).toString('hex');
    const redirectUri = `https://cli-post-${tag}.example.test/cb`;
    const reg = await cli('sites', 'register', '--name', `CLI post ${tag}`, '--redirect-uri', redirectUri, '--auth-method', 'client_secret_post');
    expect(reg.code, reg.err).to.equal(0);
    const clientId = /client_id:\s+(\S+)/.exec(reg.out)![1]!;
    const clientSecret = /client_secret:\s+(\S+)/.exec(reg.out)![1]!;
    const siteRow = await ts.db('member_sites').where({ client_id: clientId }).first();
    expect(siteRow.token_endpoint_auth_method).to.equal('client_secret_post');
    expect(siteRow.client_secret_hash).to.be.a('string').and.not.include(clientSecret);
    expect(JSON.stringify(siteRow)).to.not.include(clientSecret);
    expect((await cli('sites', 'show', '--client-id', clientId)).out).to.not.include(clientSecret);

    const made = await cli('cards', 'create', '--name', 'Cli Holder', '--birthdate', '1984-03-09');
    expect(made.code, made.err).to.equal(0);
    const printed = /card number:\s+([\d ]+)\n/.exec(made.out)![1]!.trim();
    const password = /password:\s+(\S+)/.exec(made.out)![1]!;
    expect(printed).to.match(/^\d{4} \d{4} \d{4} \d{4}$/);
    const number = printed.replace(/ /g, '');
    expect(number.startsWith(ts.config.cards.issuerPrefix)).to.equal(true);
    expect(luhnValid(number)).to.equal(true);
    const accountId = /account (\S+)/.exec(made.out)![1]!;
    const card = await ts.db('cards').where({ account_id: accountId }).first();
    expect(Buffer.compare(card.number_hmac, cardNumberHmac(ts.config.secrets.cardHmacKey, number))).to.equal(0);
    expect(card.last4).to.equal(number.slice(-4));
    for (const row of [card, await ts.db('accounts').where({ id: accountId }).first()]) {
      expect(JSON.stringify(row)).to.not.include(number).and.not.include(password);
    }
    const { memoryCost, timeCost, parallelism } = ts.config.argon2;
    const params = /^\$argon2id\$v=19\$([^$]+)\$/.exec(card.password_hash)![1]!.split(',').sort();
    expect(params).to.deep.equal([`m=${memoryCost}`, `p=${parallelism}`, `t=${timeCost}`]);
    expect(await argon2.verify(card.password_hash, password, { secret: ts.config.secrets.passwordPepper })).to.equal(true);
    expect(await argon2.verify(card.password_hash, password), 'without the pepper').to.equal(false);

    // The site authenticates as registered (client_secret_post), and the card logs in typed as printed.
    const site: TestSite = { clientId, clientSecret, redirectUri, postLogoutUri: '', resource: '' };
    const config = await siteClient(ts, site, client.ClientSecretPost(clientSecret));
    const req = await authRequest(config, site);
    const back = await runLogin(new Agent(ts.url), req.url, { number: printed, password });
    if (back.kind !== 'redirect') throw new Error(`expected a redirect, got ${back.status}`);
    const tokens = await client.authorizationCodeGrant(config, back.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce });
    expect(tokens.claims()!.aud).to.equal(clientId);
  });
});
