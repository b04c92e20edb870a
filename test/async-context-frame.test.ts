import { expect } from 'chai';
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ASYNC_CONTEXT_FRAME_FLAG, asyncContextFrameFlags } from '../src/async-context-frame.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('AsyncLocalStorage on AsyncContextFrame', () => {
  it('asks for the flag on Node 22 and 23 only, and only when it is not given already', () => {
    expect(asyncContextFrameFlags('22.23.3', ['--import', 'tsx'])).to.deep.equal([ASYNC_CONTEXT_FRAME_FLAG]);
    expect(asyncContextFrameFlags('23.11.0', [])).to.deep.equal([ASYNC_CONTEXT_FRAME_FLAG]);
    expect(asyncContextFrameFlags('22.23.3', [ASYNC_CONTEXT_FRAME_FLAG])).to.deep.equal([]);
    expect(asyncContextFrameFlags('24.0.0', [])).to.deep.equal([]);
    expect(asyncContextFrameFlags('25.9.0', [])).to.deep.equal([]);
  });

  it('is how the tests themselves run', () => {
    expect(asyncContextFrameFlags()).to.deep.equal([]);
  });

  it('restarts an entry point in place with the flag, before its later imports run, and keeps its arguments', async () => {
    // An entry point as main.ts starts: the restart first, then the rest (here, a report of what it runs with).
    const entry = `import ${JSON.stringify(path.join(ROOT, 'src/restart-with-async-context-frame.ts'))};
      console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, args: process.argv.slice(1) }));`;
    const execArgv = process.execArgv.filter((a) => a !== ASYNC_CONTEXT_FRAME_FLAG);
    const child = spawn(process.execPath, [...execArgv.filter((a) => !a.startsWith('--input-type')), '--input-type=module', '-e', entry, 'one', 'two'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).to.equal(0);
    const lines = out.trim().split('\n');
    expect(lines, 'the code after the restart runs once').to.have.length(1);
    const report = JSON.parse(lines[0]!) as { pid: number; execArgv: string[]; args: string[] };
    expect(report.pid, 'the same process').to.equal(child.pid);
    expect(report.args).to.deep.equal(['one', 'two']);
    const major = Number(process.versions.node.split('.')[0]);
    if (major < 24) expect(report.execArgv).to.include(ASYNC_CONTEXT_FRAME_FLAG);
    else expect(report.execArgv).to.not.include(ASYNC_CONTEXT_FRAME_FLAG);
  });

  it('leaves a process forked with an IPC channel as it is, so the channel keeps working', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cybercard-acf-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import ${JSON.stringify(path.join(ROOT, 'src/restart-with-async-context-frame.ts'))};
        process.send!({ pid: process.pid, execArgv: process.execArgv }, () => process.exit(0));`,
      );
      const execArgv = process.execArgv.filter((a) => a !== ASYNC_CONTEXT_FRAME_FLAG);
      const child = fork(entry, [], { cwd: ROOT, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const report = await new Promise<{ pid: number; execArgv: string[] }>((resolve, reject) => {
        child.on('message', (m) => resolve(m as { pid: number; execArgv: string[] }));
        child.on('exit', (code) => reject(new Error(`exited with ${code} before reporting`)));
      });
      expect(report.pid).to.equal(child.pid);
      expect(report.execArgv).to.not.include(ASYNC_CONTEXT_FRAME_FLAG);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
