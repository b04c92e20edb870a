import { expect } from 'chai';
import { Writable } from 'node:stream';
import { openDb } from '../../src/db/knex.ts';
import { createLogger } from '../../src/log.ts';

describe('knex warnings', () => {
  it('go to the JSON log, one line each, not to stdout as text with a stack', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const printed: unknown[] = [];
    const { log: consoleLog } = console;
    const db = openDb({ databaseUrl: 'postgres://ops:s3cret-pw@127.0.0.1:1/cybercard', dataDir: '/nonexistent', acquireTimeoutMs: 2000, log: createLogger('info', stream) });
    console.log = (...args: unknown[]) => void printed.push(args);
    try {
      await db.raw('select 1').then(
        () => expect.fail('the query reached a database on port 1'),
        () => undefined,
      );
    } finally {
      console.log = consoleLog;
      await db.destroy();
    }
    expect(printed).to.deep.equal([]);
    const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; detail: string });
    expect(parsed).to.have.length.of.at.least(1);
    expect(parsed[0]).to.include({ level: 40, msg: 'database client warning' });
    expect(parsed[0]!.detail).to.match(/^Acquire connection error: Error: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    expect(lines.join('\n')).not.to.include('s3cret-pw');
  });
});
