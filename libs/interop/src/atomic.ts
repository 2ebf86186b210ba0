import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Write bytes to `file` atomically (temporary sibling, then rename). */
export async function writeAtomic(file: string, data: Uint8Array): Promise<void> {
  const target = resolve(file);
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: its folder does not exist` : `${file}: cannot write (${(e as Error).message})`);
  }
}

