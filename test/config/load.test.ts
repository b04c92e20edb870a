import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

const PROD_SECRETS = {
  COOKIE_KEYS: 'a'.repeat(40),
  CARD_HMAC_KEY: Buffer.alloc(32, 1).toString('base64'),
  PASSWORD_PEPPER: Buffer.alloc(32, 2).toString('base64'),
  OPERATOR_TOKEN: 'o'.repeat(40),
  SMS_WEBHOOK_URL: 'https://sms.example/send',
  DATABASE_URL: 'postgres://db.internal/cybercard',
};

describe('configuration', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cybercard-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  function refuses(env: NodeJS.ProcessEnv, pattern: RegExp, overrides: Record<string, unknown> = {}) {
    expect(() => loadConfig({ env: { DATA_DIR: dataDir, ...env }, overrides })).to.throw(ConfigError, pattern);
  }

  it('generates development secrets once and keeps them under the data directory', () => {
    const a = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } });
    const b = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } });
    expect(a.secrets.generated).to.equal(true);
    expect(a.secrets.cardHmacKey.equals(b.secrets.cardHmacKey)).to.equal(true);
    expect(a.secrets.cookieKeys).to.deep.equal(b.secrets.cookieKeys);
    const stored = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as Record<string, unknown>;
    expect(stored).to.have.keys('cookieKeys', 'cardHmacKey', 'passwordPepper', 'operatorToken', 'registrationToken', 'metricsToken');
    expect(a.secrets.registrationToken).to.equal(b.secrets.registrationToken);
    expect(a.secrets.metricsToken).to.be.a('string').with.length.of.at.least(32).and.equal(b.secrets.metricsToken);
  });

  it('names DATA_DIR when the data directory cannot hold the development secrets, or holds unreadable ones', () => {
    const file = path.join(dataDir, 'a-file');
    writeFileSync(file, 'not a directory');
    refuses({ NODE_ENV: 'development', DATA_DIR: file }, /^dataDir \(DATA_DIR\) .*a-file cannot hold the development secrets: /);
    writeFileSync(path.join(dataDir, 'secrets.json'), '{"cookieKeys": [');
    refuses({ NODE_ENV: 'development' }, /^dataDir \(DATA_DIR\) .*secrets\.json is not JSON: /);
  });

  it('adds a metrics token to development secrets kept from before there was one', () => {
    const first = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } });
    const file = path.join(dataDir, 'secrets.json');
    const { metricsToken: _dropped, ...older } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify(older));
    const again = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } });
    expect(again.secrets.metricsToken).to.be.a('string').with.length.of.at.least(32);
    expect(again.secrets.operatorToken).to.equal(first.secrets.operatorToken);
    expect((JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>).metricsToken).to.equal(again.secrets.metricsToken);
  });

  it('starts production without METRICS_TOKEN (metrics off), takes one of 32 characters or more, and refuses a shorter one', () => {
    const env = { NODE_ENV: 'production', ISSUER: 'https://cards.example', DATA_DIR: dataDir, ...PROD_SECRETS };
    expect(loadConfig({ env }).secrets.metricsToken).to.equal(undefined);
    expect(loadConfig({ env: { ...env, METRICS_TOKEN: 'm'.repeat(32) } }).secrets.metricsToken).to.equal('m'.repeat(32));
    refuses({ ...env, METRICS_TOKEN: 'short' }, /^METRICS_TOKEN must be at least 32 characters/);
  });

  it('lets environment variables override files', () => {
    const c = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir, PORT: '4321', ISSUER: 'http://localhost:4321', DATABASE_POOL_MAX: '25', DATABASE_IDLE_IN_TRANSACTION_SECONDS: '0', DATABASE_LISTEN_URL: 'postgres://db.internal/cards', KEEP_MEMBER_SITES: 'false', TRUST_PROXY: 'true', PROXY_HOPS: '2' } });
    expect(c.port).to.equal(4321);
    expect(c.trustProxy).to.equal(true);
    expect(c.proxyHops).to.equal(2);
    expect(c.databaseListenUrl).to.equal('postgres://db.internal/cards');
    expect(c.keepMemberSites).to.equal(false);
    expect(c.databasePoolMax).to.equal(25);
    expect(c.databaseIdleInTransactionSeconds).to.equal(0);
    expect(c.issuer).to.equal('http://localhost:4321');
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('moves the localhost issuer and demo URL with PORT and DEMO_PORT, unless ISSUER and DEMO_URL say otherwise', () => {
    const moved = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir, PORT: '3470', DEMO_PORT: '3471' } });
    expect([moved.port, moved.issuer, moved.demo.port, moved.demo.url]).to.deep.equal([3470, 'http://localhost:3470', 3471, 'http://localhost:3471']);
    const told = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir, PORT: '3470', ISSUER: 'https://cards.example.test', DEMO_PORT: '3471', DEMO_URL: 'http://127.0.0.1:9' } });
    expect([told.issuer, told.demo.url]).to.deep.equal(['https://cards.example.test', 'http://127.0.0.1:9']);
  });

  it('names the bad setting', () => {
    refuses({ NODE_ENV: 'development', PORT: 'eighty' }, /PORT/);
    refuses({ NODE_ENV: 'development', DATABASE_POOL_MAX: 'lots' }, /DATABASE_POOL_MAX/);
    refuses({ NODE_ENV: 'development', DATABASE_POOL_MAX: '1' }, /databasePoolMax/);
    refuses({ NODE_ENV: 'development', DATABASE_IDLE_IN_TRANSACTION_SECONDS: 'a minute' }, /DATABASE_IDLE_IN_TRANSACTION_SECONDS/);
    refuses({ NODE_ENV: 'development', DATABASE_IDLE_IN_TRANSACTION_SECONDS: '-1' }, /DATABASE_IDLE_IN_TRANSACTION_SECONDS|databaseIdleInTransactionSeconds/);
    refuses({ NODE_ENV: 'development', KEEP_MEMBER_SITES: 'yes' }, /KEEP_MEMBER_SITES/);
    refuses({ NODE_ENV: 'development', PROXY_HOPS: '0' }, /proxyHops/);
    refuses({ NODE_ENV: 'development', DEMO_ENABLED: 'yes' }, /DEMO_ENABLED/);
    refuses({ NODE_ENV: 'development', ISSUER: 'localhost:3000' }, /issuer.*http:\/\/ or https:\/\//);
    refuses({ NODE_ENV: 'development', CURRENCY: 'won' }, /currency/);
    // Three capitals are not yet a currency: a typo (KWR for KRW) or XXX ("no currency") would price every card in it.
    for (const code of ['KWR', 'ABC', 'XXX', 'XTS']) {
      refuses({ NODE_ENV: 'development', CURRENCY: code }, new RegExp(`^config setting "currency" is invalid: ${code} is not an ISO 4217 currency code[^\\n]*$`));
    }
    for (const code of ['KRW', 'USD', 'JPY', 'KWD', 'EUR']) {
      expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir, CURRENCY: code } }).currency).to.equal(code);
    }
    refuses({ NODE_ENV: 'development', ISSUER: 'not a url' }, /issuer/);
    refuses({ NODE_ENV: 'staging' }, /NODE_ENV/);
    refuses({ NODE_ENV: 'development', OIDC_ALLOW_PRIVATE_FETCH: 'yes' }, /OIDC_ALLOW_PRIVATE_FETCH/);
    refuses({ NODE_ENV: 'development' }, /oidc\.allowPrivateFetch/, { oidc: { allowPrivateFetch: 'no' } });
    for (const bad of [0, -1, 2.5, 'five', null]) {
      refuses({ NODE_ENV: 'development' }, /cards\.maxWardsPerGuardian/, { cards: { maxWardsPerGuardian: bad } });
    }
  });

  it('takes an issuer that is an origin alone: the card manager serves from the root of its host', () => {
    for (const issuer of ['https://cards.example.test/cc', 'https://cards.example.test/?x=1', 'https://cards.example.test/#top', 'https://ops:pw@cards.example.test']) {
      refuses({ NODE_ENV: 'development', ISSUER: issuer }, /^config setting "issuer" is invalid: an origin alone, such as https:\/\/cards\.example\.com, without a path, query, fragment or user \(the card manager serves from the root of its host\)$/);
    }
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir, ISSUER: 'https://cards.example.test/' } }).issuer).to.equal('https://cards.example.test');
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir, ISSUER: 'http://localhost:3470' } }).issuer).to.equal('http://localhost:3470');
  });

  it('caps one-time codes at 10 a day unless oneTimeCodes.maxPerDay says otherwise, and never below the hourly limit', () => {
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } }).oneTimeCodes.maxPerDay).to.equal(10);
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir }, overrides: { oneTimeCodes: { maxPerDay: 20 } } }).oneTimeCodes.maxPerDay).to.equal(20);
    for (const bad of [0, -1, 2.5, 'ten', null, 51]) {
      refuses({ NODE_ENV: 'development' }, /oneTimeCodes\.maxPerDay/, { oneTimeCodes: { maxPerDay: bad } });
    }
    refuses({ NODE_ENV: 'development' }, /oneTimeCodes\.maxPerDay.*maxPerDay must not be below maxPerHour/, { oneTimeCodes: { maxPerHour: 6, maxPerDay: 5 } });
  });

  it('keeps 3 codes a day for known devices unless oneTimeCodes.knownDeviceMaxPerDay says otherwise (0 to 10)', () => {
    const env = { NODE_ENV: 'development', DATA_DIR: dataDir };
    expect(loadConfig({ env }).oneTimeCodes.knownDeviceMaxPerDay).to.equal(3);
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', DATA_DIR: dataDir, ...PROD_SECRETS };
    expect(loadConfig({ env: production }).oneTimeCodes).to.include({ maxPerDay: 10, knownDeviceMaxPerDay: 3 });
    expect(loadConfig({ env, overrides: { oneTimeCodes: { knownDeviceMaxPerDay: 0 } } }).oneTimeCodes.knownDeviceMaxPerDay).to.equal(0);
    expect(loadConfig({ env, overrides: { oneTimeCodes: { knownDeviceMaxPerDay: 10 } } }).oneTimeCodes.knownDeviceMaxPerDay).to.equal(10);
    for (const bad of [-1, 2.5, 'three', null, 11, true]) {
      refuses({ NODE_ENV: 'development' }, /oneTimeCodes\.knownDeviceMaxPerDay/, { oneTimeCodes: { knownDeviceMaxPerDay: bad } });
    }
  });

  it("lets an operator export 20 holders' data an hour unless holderData.operatorExportsPerHour says otherwise (1 to 1000)", () => {
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } }).holderData.operatorExportsPerHour).to.equal(20);
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir }, overrides: { holderData: { operatorExportsPerHour: 5 } } }).holderData.operatorExportsPerHour).to.equal(5);
    for (const bad of [0, -1, 2.5, 'twenty', null, 1001]) {
      refuses({ NODE_ENV: 'development' }, /holderData\.operatorExportsPerHour/, { holderData: { operatorExportsPerHour: bad } });
    }
  });

  it("lets a guardian vouch for 5 open children's cards unless cards.maxWardsPerGuardian says otherwise", () => {
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } }).cards.maxWardsPerGuardian).to.equal(5);
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir }, overrides: { cards: { maxWardsPerGuardian: 12 } } }).cards.maxWardsPerGuardian).to.equal(12);
  });

  it('fetches member-site URLs at private addresses only when told: off in production and test, on in development', () => {
    const load = (env: NodeJS.ProcessEnv) => loadConfig({ env: { DATA_DIR: dataDir, ...env } }).oidc.allowPrivateFetch;
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS };
    expect([load(production), load({ NODE_ENV: 'test' }), load({ NODE_ENV: 'development' })]).to.deep.equal([false, false, true]);
    // An operator whose member sites live on its own network says so; a developer may say the opposite.
    expect([load({ ...production, OIDC_ALLOW_PRIVATE_FETCH: 'true' }), load({ NODE_ENV: 'development', OIDC_ALLOW_PRIVATE_FETCH: 'false' })]).to.deep.equal([true, false]);
  });

  it('refuses to start production with generated secrets', () => {
    refuses({ NODE_ENV: 'production', ISSUER: 'https://cards.example', SMS_WEBHOOK_URL: PROD_SECRETS.SMS_WEBHOOK_URL, DATABASE_URL: PROD_SECRETS.DATABASE_URL }, /^COOKIE_KEYS, CARD_HMAC_KEY, PASSWORD_PEPPER, OPERATOR_TOKEN \(or OPERATOR_TOKENS\) must be set in production/);
    // Only what is missing is named.
    const { OPERATOR_TOKEN: _left, ...three } = PROD_SECRETS;
    refuses({ NODE_ENV: 'production', ISSUER: 'https://cards.example', ...three }, /^OPERATOR_TOKEN \(or OPERATOR_TOKENS\) must be set in production/);
  });

  it('refuses production without an issuer given (ISSUER, or issuer in the files), rather than announce http://localhost:3000', () => {
    const { DATABASE_URL: _db, ...secrets } = PROD_SECRETS;
    refuses({ NODE_ENV: 'production', ...secrets, DATABASE_URL: PROD_SECRETS.DATABASE_URL }, /^ISSUER must be set in production: the public https URL member sites and browsers reach the card manager at \(without it the issuer would be http:\/\/localhost:3000\)$/);
    refuses({ NODE_ENV: 'production', ...PROD_SECRETS, PORT: '8080' }, /^ISSUER must be set in production: .*http:\/\/localhost:8080\)$/);
    // Named, a localhost issuer is taken (a production configuration tried on one machine).
    expect(loadConfig({ env: { NODE_ENV: 'production', ...PROD_SECRETS, DATA_DIR: dataDir, ISSUER: 'http://localhost:3000' } }).issuer).to.equal('http://localhost:3000');
    expect(loadConfig({ env: { NODE_ENV: 'production', ...PROD_SECRETS, DATA_DIR: dataDir }, overrides: { issuer: 'https://cards.example' } }).issuer).to.equal('https://cards.example');
  });

  it('refuses production naming everything that stops it at once, one line each, not the first alone', () => {
    const message = (() => {
      try {
        loadConfig({ env: { NODE_ENV: 'production', ISSUER: 'http://cards.example', DATA_DIR: dataDir } });
      } catch (err) {
        return (err as Error).message;
      }
      return 'started';
    })();
    expect(message.split('\n')).to.deep.equal([
      '4 things to fix before production starts:',
      '  - DATABASE_URL must be set in production: the embedded database (dataDir/pgdata) serves one process and is no database to keep money in (ALLOW_EMBEDDED_DATABASE=true runs on it anyway)',
      '  - issuer must be https in production, got http://cards.example',
      '  - notifications.sms.transport must not be file in production: one-time codes and notices would be written to dataDir/outbox, not sent (set SMS_WEBHOOK_URL, or notifications.sms.transport webhook and its webhookUrl)',
      '  - COOKIE_KEYS, CARD_HMAC_KEY, PASSWORD_PEPPER, OPERATOR_TOKEN (or OPERATOR_TOKENS) must be set in production (generated secrets are refused)',
    ]);
  });

  it('takes named operator tokens (OPERATOR_TOKENS) beside or instead of OPERATOR_TOKEN, and refuses malformed ones', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS };
    const { OPERATOR_TOKEN: _shared, ...withoutShared } = production;
    const [a, b] = ['a'.repeat(32), 'b'.repeat(40)];
    const c = loadConfig({ env: { ...withoutShared, DATA_DIR: dataDir, OPERATOR_TOKENS: `kim.j:${a},lee_s-2:${b}` } });
    expect(c.secrets.operators).to.deep.equal([{ name: 'kim.j', token: a, role: 'full' }, { name: 'lee_s-2', token: b, role: 'full' }]);
    expect(c.secrets.operatorToken).to.equal(undefined);
    expect(loadConfig({ env: { ...production, DATA_DIR: dataDir } }).secrets.operators).to.deep.equal([]);
    for (const [value, message] of [
      [`kim:${a.slice(1)}`, /the token of kim must be at least 32 characters/],
      [a, /entry 1 must be name:token/],
      [`:${a}`, /entry 1 must be name:token/],
      [`kim:${a},Lee:${b}`, /entry 2 must be name:token/],
      [`kim:${a},kim:${b}`, /a name is given twice/],
      [`kim:${a},lee:${a}`, /a token is given twice/],
      [`kim:${production.OPERATOR_TOKEN}`, /a token is also OPERATOR_TOKEN/],
    ] as const) {
      refuses({ ...production, OPERATOR_TOKENS: value }, message);
    }
    refuses({ ...withoutShared, OPERATOR_TOKENS: '' }, /^OPERATOR_TOKEN \(or OPERATOR_TOKENS\) must be set in production/);
  });

  it('takes a role after a named operator token (name:token:viewer is read-only, none or :full is full access), and refuses any other', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS, DATA_DIR: dataDir };
    const [a, b, c] = ['a'.repeat(32), 'b'.repeat(40), 'c'.repeat(33)];
    const loaded = loadConfig({ env: { ...production, OPERATOR_TOKENS: `kim:${a}:viewer, lee:${b}, park:${c} : full ` } });
    expect(loaded.secrets.operators).to.deep.equal([
      { name: 'kim', token: a, role: 'viewer' },
      { name: 'lee', token: b, role: 'full' },
      { name: 'park', token: c, role: 'full' },
    ]);
    for (const [value, message] of [
      [`kim:${a}:admin`, /^OPERATOR_TOKENS: the role of kim must be viewer or full \(none: full\)$/],
      [`kim:${a}:Viewer`, /^OPERATOR_TOKENS: the role of kim must be viewer or full/],
      [`kim:${a}:`, /^OPERATOR_TOKENS: the role of kim must be viewer or full/],
      [`kim:${a}:viewer:full`, /^OPERATOR_TOKENS: the role of kim must be viewer or full/],
      [`lee:${b},kim:${a}:viewer,park:${a}:viewer`, /^OPERATOR_TOKENS: a token is given twice$/],
    ] as const) {
      refuses({ ...production, OPERATOR_TOKENS: value }, message);
    }
  });

  it('takes an operator token without the whitespace around it, as the console and the API take it when presented', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS, DATA_DIR: dataDir };
    const [a, b] = ['a'.repeat(32), 'b'.repeat(40)];
    const c = loadConfig({ env: { ...production, OPERATOR_TOKEN: ` ${a}\n`, OPERATOR_TOKENS: `kim: ${b} ` } });
    expect(c.secrets.operatorToken).to.equal(a);
    expect(c.secrets.operators).to.deep.equal([{ name: 'kim', token: b, role: 'full' }]);
    refuses({ ...production, OPERATOR_TOKEN: `   ${a.slice(3)}   ` }, /^OPERATOR_TOKEN must be at least 32 characters/);
  });

  it('leaves the generated development operator token out once named tokens are set, unless OPERATOR_TOKEN says otherwise', () => {
    const dev = { NODE_ENV: 'development', DATA_DIR: dataDir };
    const plain = loadConfig({ env: dev });
    expect(plain.secrets.operatorToken).to.be.a('string').with.length.of.at.least(32);
    expect(plain.secrets.generatedOperatorTokenRefused).to.equal(false);
    const named = loadConfig({ env: { ...dev, OPERATOR_TOKENS: `kim:${'k'.repeat(32)}` } });
    expect(named.secrets.operatorToken).to.equal(undefined);
    expect(named.secrets.generatedOperatorTokenRefused).to.equal(true);
    const chosen = loadConfig({ env: { ...dev, OPERATOR_TOKENS: `kim:${'k'.repeat(32)}`, OPERATOR_TOKEN: 's'.repeat(32) } });
    expect([chosen.secrets.operatorToken, chosen.secrets.generatedOperatorTokenRefused]).to.deep.equal(['s'.repeat(32), false]);
  });

  it('refuses production on the embedded database unless ALLOW_EMBEDDED_DATABASE says to run on it', () => {
    const { DATABASE_URL: _url, ...withoutUrl } = PROD_SECRETS;
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...withoutUrl };
    refuses(production, /^DATABASE_URL must be set in production: the embedded database/);
    refuses({ ...production, ALLOW_EMBEDDED_DATABASE: 'false' }, /^DATABASE_URL must be set in production/);
    refuses({ ...production, ALLOW_EMBEDDED_DATABASE: 'yes' }, /^ALLOW_EMBEDDED_DATABASE must be true or false/);
    expect(loadConfig({ env: { ...production, DATA_DIR: dataDir, ALLOW_EMBEDDED_DATABASE: 'true' } }).databaseUrl).to.equal(null);
    expect(loadConfig({ env: { ...production, DATA_DIR: dataDir }, overrides: { allowEmbeddedDatabase: true } }).allowEmbeddedDatabase).to.equal(true);
    expect(loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } }).databaseUrl).to.equal(null);
  });

  it('refuses production with devInteractions on', () => {
    refuses({ NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS }, /devInteractions/, {
      oidc: { devInteractions: true },
    });
  });

  it('refuses production that closes statements less than a minute after a period ends', () => {
    refuses({ NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS }, /billing\.settleSeconds must be at least 60 in production, got 0/, {
      billing: { settleSeconds: 0 },
    });
    const c = loadConfig({ env: { NODE_ENV: 'production', ISSUER: 'https://cards.example', DATA_DIR: dataDir, ...PROD_SECRETS }, overrides: { billing: { settleSeconds: 60 } } });
    expect(c.billing.settleSeconds).to.equal(60);
  });

  it('refuses production whose instances might sign with a rotated key before the others publish it', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS };
    refuses(production, /keys\.refreshSeconds must be above 0 and keys\.publishAheadSeconds at least twice it in production, got 0 and 300/, {
      keys: { refreshSeconds: 0 },
    });
    refuses(production, /got 30 and 59/, { keys: { publishAheadSeconds: 59 } });
    refuses({ NODE_ENV: 'test' }, /keys\.refreshSeconds/, { keys: { refreshSeconds: -1 } });
    const c = loadConfig({ env: { ...production, DATA_DIR: dataDir }, overrides: { keys: { refreshSeconds: 30, publishAheadSeconds: 60 } } });
    expect(c.keys).to.deep.equal({ refreshSeconds: 30, publishAheadSeconds: 60 });
  });

  it('refuses production that would write notifications to files: one-time codes on disk, never sent', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS };
    const { SMS_WEBHOOK_URL: _url, ...withoutSms } = production;
    refuses(withoutSms, /^notifications\.sms\.transport must not be file in production/);
    refuses(production, /^notifications\.email\.transport must not be file in production/, { notifications: { email: { transport: 'file' } } });
    const c = loadConfig({ env: { ...production, DATA_DIR: dataDir } });
    expect(c.notifications.sms).to.deep.equal({ transport: 'webhook', webhookUrl: 'https://sms.example/send' });
    expect(c.notifications.email.transport).to.equal('smtp');
    refuses({ ...production, SMS_WEBHOOK_URL: 'not a url' }, /notifications\.sms\.webhookUrl/);
  });

  it('refuses production with the demo member site on: it would issue a card whose password sits in a file', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS };
    refuses({ ...production, DEMO_ENABLED: 'true' }, /^demo\.enabled must be false in production/);
    refuses(production, /^demo\.enabled must be false in production/, { demo: { enabled: true } });
    expect(loadConfig({ env: { ...production, DATA_DIR: dataDir, DEMO_ENABLED: 'false' } }).demo.enabled).to.equal(false);
  });

  it('refuses production with an http issuer that is not localhost', () => {
    refuses({ NODE_ENV: 'production', ISSUER: 'http://cards.example', ...PROD_SECRETS }, /https/);
  });

  it('refuses short production secrets', () => {
    refuses({ NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS, CARD_HMAC_KEY: 'c2hvcnQ=' }, /CARD_HMAC_KEY/);
  });

  it('refuses malformed production secrets, naming the setting and never its value', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://cards.example', ...PROD_SECRETS };
    const words = 'correct horse battery staple and more words '.repeat(3);
    const cases: Array<[Record<string, string>, RegExp]> = [
      // Not base64: decoded leniently, the letters alone made a key long enough.
      [{ CARD_HMAC_KEY: words }, /^CARD_HMAC_KEY must be base64/],
      [{ PASSWORD_PEPPER: `${Buffer.alloc(32, 2).toString('base64')}!` }, /^PASSWORD_PEPPER must be base64/],
      [{ PASSWORD_PEPPER: `${Buffer.alloc(32, 2).toString('base64').slice(0, 20)}=${Buffer.alloc(32, 2).toString('base64').slice(20)}` }, /^PASSWORD_PEPPER must be base64/],
      // Two keys separated by a space instead of a comma: one key, and the rotation that was meant does not happen.
      [{ COOKIE_KEYS: `${'a'.repeat(40)} ${'b'.repeat(40)}` }, /^COOKIE_KEYS: separate keys with commas/],
      [{ COOKIE_KEYS: `${'a'.repeat(40)}\u0007` }, /^COOKIE_KEYS: separate keys with commas/],
      // A bearer token no Authorization header can carry as sent.
      [{ OPERATOR_TOKEN: `${'o'.repeat(20)} ${'p'.repeat(20)}` }, /^OPERATOR_TOKEN must be/],
      [{ OPERATOR_TOKEN: `${'o'.repeat(32)}é` }, /^OPERATOR_TOKEN must be/],
      [{ OPERATOR_TOKENS: `kim:${'k'.repeat(20)} ${'k'.repeat(20)}` }, /^OPERATOR_TOKENS: the token of kim must be/],
      [{ REGISTRATION_TOKEN: `${'r'.repeat(32)} r` }, /^REGISTRATION_TOKEN must be/],
      [{ METRICS_TOKEN: `${'m'.repeat(32)}"` }, /^METRICS_TOKEN must be/],
    ];
    for (const [bad, pattern] of cases) {
      const env = { DATA_DIR: dataDir, ...production, ...bad };
      let message = '';
      try {
        loadConfig({ env });
      } catch (err) {
        expect(err, JSON.stringify(bad)).to.be.instanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message, JSON.stringify(bad)).to.match(pattern);
      for (const value of Object.values(bad)) expect(message).to.not.include(value.trim().slice(0, 16));
    }
    // What openssl and the README make, standard or URL-safe base64, with or without the newline a file keeps, is taken.
    for (const key of [Buffer.alloc(32, 7).toString('base64'), Buffer.alloc(48, 7).toString('base64url'), `${Buffer.alloc(32, 7).toString('base64')}\n`]) {
      expect(loadConfig({ env: { DATA_DIR: dataDir, ...production, CARD_HMAC_KEY: key, OPERATOR_TOKEN: `${Buffer.alloc(32, 9).toString('base64')}` } }).secrets.cardHmacKey).to.have.length.of.at.least(32);
    }
  });

  it('starts production with real secrets and an https issuer', () => {
    const c = loadConfig({ env: { NODE_ENV: 'production', ISSUER: 'https://cards.example', DATA_DIR: dataDir, ...PROD_SECRETS } });
    expect(c.secrets.generated).to.equal(false);
    expect(c.oidc.devInteractions).to.equal(false);
  });

  it('hashes passwords with argon2id at m=19456 KiB, t=2, p=1 in production and development, and cheaper in test', () => {
    const production = loadConfig({ env: { NODE_ENV: 'production', ISSUER: 'https://cards.example', DATA_DIR: dataDir, ...PROD_SECRETS } });
    const development = loadConfig({ env: { NODE_ENV: 'development', DATA_DIR: dataDir } });
    const test = loadConfig({ env: { NODE_ENV: 'test', DATA_DIR: dataDir } });
    expect(production.argon2).to.deep.equal({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(development.argon2).to.deep.equal(production.argon2);
    expect(test.argon2.memoryCost * test.argon2.timeCost).to.be.below(19456 * 2);
  });
});
