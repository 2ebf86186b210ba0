import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { workerScriptUrl } from '../src/index.js';

function fakePackage(): string {
  const root = mkdtempSync(join(tmpdir(), 'facet-worker-script-'));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'package.json'), '{"name":"fake","type":"module"}');
  writeFileSync(join(root, 'src', 'helper.ts'), 'export const twice = (x: number): number => 2 * x;\n');
  writeFileSync(join(root, 'src', 'echo-worker.ts'), "import { parentPort } from 'node:worker_threads';\nimport { twice } from './helper.js';\nparentPort!.on('message', (x: number) => parentPort!.postMessage(twice(x)));\n");
  return root;
}

const opts = (from: string) => ({ from, name: 'echo-worker', resolvePackage: () => { throw new Error('not installed'); }, fallback: 'use numWorkers: 0' });

describe('workerScriptUrl', () => {
  it('from source: bundles the .ts entry once per source version into the package cache, and the bundle runs', async () => {
    const root = fakePackage();
    const from = pathToFileURL(join(root, 'src', 'index.ts')).href;
    const url = await workerScriptUrl(opts(from));
    expect(url.pathname).toContain(join(root, 'node_modules', '.cache', 'facet-echo-worker'));
    expect((await workerScriptUrl(opts(from))).href).toBe(url.href); // reused, not rebuilt
    const w = new Worker(url);
    const answer = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.postMessage(21);
    });
    await w.terminate();
    expect(answer).toBe(42);
    expect(readdirSync(join(root, 'node_modules', '.cache', 'facet-echo-worker'))).toHaveLength(1);
  });

  it('built: the script beside dist/index.js; missing, an error naming it and the fallback', async () => {
    const root = fakePackage();
    mkdirSync(join(root, 'dist'));
    const from = pathToFileURL(join(root, 'dist', 'index.js')).href;
    await expect(workerScriptUrl(opts(from))).rejects.toThrow(/dist\/echo-worker\.js: the worker script is missing from the build; rebuild the package \(npm run build\) or use numWorkers: 0/);
    writeFileSync(join(root, 'dist', 'echo-worker.js'), '');
    expect((await workerScriptUrl(opts(from))).pathname).toBe(join(root, 'dist', 'echo-worker.js'));
  });
});
