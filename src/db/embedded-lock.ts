import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { AppError } from '../errors.ts';

/** Another live process has the embedded database open: PGlite serves one process, and a second one corrupts it. */
export class EmbeddedInUseError extends AppError {
  constructor(dir: string, pid: number) {
    super(
      'embedded_database_in_use',
      `the embedded database in ${dir} is open in another process (pid ${pid}), most likely npm start. ` +
        'PGlite serves one process at a time: stop that one first, or run both on PostgreSQL (DATABASE_URL).',
      { status: 503 },
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `lockFile` for this process (its pid inside), or throws EmbeddedInUseError while another live
 * process holds it. A lock left by a process that died is taken over. This process keeps it until it exits
 * (a restart in place keeps the pid, and so the lock).
 */
export function claimEmbedded(lockFile: string, dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      process.once('exit', () => {
        try {
          if (readFileSync(lockFile, 'utf8') === String(process.pid)) unlinkSync(lockFile);
        } catch {
          // gone already
        }
      });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(lockFile, 'utf8'));
    if (pid === process.pid) return;
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new EmbeddedInUseError(dir, pid);
    unlinkSync(lockFile); // left by a process that is gone
  }
}
