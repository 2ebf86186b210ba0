// BatchLoader.close() with prefetched batches finished but not yet received must return even when nothing else
// keeps the process alive: before the fix the pending terminate() held no handle, so a trainer whose last await
// was close() exited silently (code 13, unsettled await) right after its final checkpoint. Vitest keeps its own
// event loop busy, so this runs a bundled script in a child process, as a CLI would.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', 'node_modules', '.cache', `facet-data-close-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('BatchLoader.close', () => {
  it('returns with jobs in flight when the loader is all the process has left', async () => {
    mkdirSync(dir, { recursive: true });
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { BatchLoader } from ${JSON.stringify(join(here, '..', 'src', 'loader.ts'))};
import { SyntheticFaceDataset } from ${JSON.stringify(join(here, '..', 'src', 'synthetic', 'dataset.ts'))};
const ds = new SyntheticFaceDataset({ identities: 16, imagesPerIdentity: 8, imageSize: 48 });
const loader = new BatchLoader(ds, { batchSize: 16, seed: 1, shuffle: true, augment: { flip: true }, numWorkers: 1, prefetch: 3 });
for (let i = 0; i < 3; i++) await loader.next();
// a training step: the main thread computes while the worker finishes the prefetched batches
const t = Date.now();
while (Date.now() - t < 1500);
await loader.close();
console.log('closed');
`,
    );
    const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'silent' } as const;
    await build({ ...common, entryPoints: [entry], outfile: join(dir, 'entry.mjs') });
    // the loader looks for its worker script next to the file it was bundled into
    await build({ ...common, entryPoints: [join(here, '..', 'src', 'loader-worker.ts')], outfile: join(dir, 'loader-worker.js') });
    for (let run = 0; run < 3; run++) {
      const r = spawnSync(process.execPath, [join(dir, 'entry.mjs')], { encoding: 'utf8', timeout: 60_000 });
      expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() }).toEqual({ status: 0, stdout: 'closed', stderr: '' });
    }
  }, 120_000);
});
