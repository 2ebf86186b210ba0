// A training run directory belongs to one process at a time: two `facet repro` invocations (or `--jobs` tasks) that
// resumed the same run would interleave checkpoints and logs. The lock is a file holding the owner's pid, created
// exclusively; a lock whose process is gone (killed run) is taken over, since every run resumes from its checkpoint.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_LOCK_FILE = 'repro.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run `fn` holding `dir`'s lock; a live owner other than this process is a clear error. */
export async function withRunLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const path = join(dir, RUN_LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new Error(`${dir} is being trained by another process (pid ${owner}, lock ${path}); wait for it to finish, or run the other experiments (--only). If no such run is going on, delete ${path}.`);
      }
      rmSync(path, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
