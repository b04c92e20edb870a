import './restart-with-async-context-frame.ts';
import { buildApp } from './app.ts';
import { AppError } from './errors.ts';
import { formatCardNumber } from './cards/card-number.ts';
import { loadConfig, onPortsGot } from './config/load.ts';
import { createDemoSite } from './demo-site/app.ts';
import { openDb } from './db/knex.ts';
import { migrateLatest } from './db/migrate.ts';
import { explainUnreachable } from './db/database-unreachable.ts';
import { checkSecretsAgainstDatabase } from './config/check-secrets-against-database.ts';
import { seedDemo } from './dev/seed-demo.ts';
import { createLogger } from './log.ts';
import { bind, close, serve } from './server.ts';

// Entry: load config → bind the ports → open db → migrate → check the secrets against it → build app → serve.
// Nothing else. The ports are bound first: one in use stops the start at once, and one picked (PORT=0) is named by
// the issuer the app is built with.
const asked = startOrExplain(loadConfig);
const cardManagerSocket = await startOrExplain(() => bind(asked.port, 'PORT'));
const demoSocket = asked.demo.enabled ? await startOrExplain(() => bind(asked.demo.port, 'DEMO_PORT')) : undefined;
const config = startOrExplain(() => onPortsGot(asked, { port: cardManagerSocket.port, demoPort: demoSocket?.port }));
const log = createLogger(config.logLevel);
const db = startOrExplain(() => openDb({ ...config, poolMax: config.databasePoolMax, idleInTransactionSeconds: config.databaseIdleInTransactionSeconds, log }));
await startOrExplain(() => migrateLatest(db).catch((err: unknown) => Promise.reject(explainUnreachable(err, config.databaseUrl))));
await startOrExplain(() => checkSecretsAgainstDatabase(db, config.secrets));
const cardManager = await startOrExplain(() => buildApp({ config, db, log }));
const server = cardManagerSocket.server;
serve(server, cardManager.app);
log.info({ issuer: config.issuer, port: cardManagerSocket.port, embedded: !config.databaseUrl }, 'card manager listening');

const demoServer = demoSocket?.server;
let stopDemo: (() => void) | undefined;
if (demoServer) {
  const seed = await seedDemo(cardManager.cards, config.dataDir, config.demo.url);
  const demo = await createDemoSite({
    issuer: config.issuer,
    clientId: seed.clientId,
    clientSecret: seed.clientSecret,
    url: config.demo.url,
    resource: seed.resource,
    cookieKeys: [...config.secrets.cookieKeys],
    currency: config.currency,
    // Captures the demo's open approvals like a shop's periodic settlement.
    settleEverySeconds: 60,
  });
  stopDemo = demo.stop;
  serve(demoServer, demo.app);
  // Printed to the terminal, not the log: a development convenience for the demo card only.
  console.log(`
  Card manager:      ${config.issuer}
  Demo member site:  ${config.demo.url}
  Demo card number:  ${formatCardNumber(seed.card.number)}
  Demo password:     ${seed.card.password}
`);
}

// Drains first: no new connection is taken, and the requests in flight finish on the pools and jobs they started
// with (a login's throttles have a pool of their own, which stop() closes); only then do the jobs and pools stop.
async function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  const graceMs = config.shutdownGraceSeconds * 1000;
  const cut = () => log.warn({ graceSeconds: config.shutdownGraceSeconds }, 'shutdown grace over: connections cut');
  await Promise.all([close(server, graceMs, cut), demoServer ? close(demoServer, graceMs) : undefined]);
  stopDemo?.();
  await cardManager.stop();
  await db.destroy();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

/** A step that may refuse to start (a bad setting, the embedded database in use): its message alone, exit 1. */
function startOrExplain<T>(step: () => T): T {
  try {
    const result = step();
    return (result instanceof Promise ? result.catch(explain) : result) as T;
  } catch (err) {
    return explain(err);
  }
}

function explain(err: unknown): never {
  if (!(err instanceof AppError)) throw err;
  console.error(`cybercard cannot start: ${err.message}`);
  process.exit(1);
}
