import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { prepareOutput } from '../src/run-files.js';

describe('prepareOutput: where a run may write', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'facet-out-'));

  it('takes a new folder, an empty one, or one holding only hidden files', () => {
    const root = dir();
    expect(() => prepareOutput(DEFAULT_CONFIG, join(root, 'new'), {})).not.toThrow();
    mkdirSync(join(root, 'empty'));
    expect(() => prepareOutput(DEFAULT_CONFIG, join(root, 'empty'), {})).not.toThrow();
    mkdirSync(join(root, 'hidden'));
    writeFileSync(join(root, 'hidden', '.DS_Store'), '');
    expect(() => prepareOutput(DEFAULT_CONFIG, join(root, 'hidden'), {})).not.toThrow();
  });

  it('refuses a non-empty folder that is not a run unless --force, naming what is there', () => {
    const out = join(dir(), 'photos');
    mkdirSync(join(out, 'alice'), { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'x');
    expect(() => prepareOutput(DEFAULT_CONFIG, out, {})).toThrow(/output directory .*photos is not empty and holds no Facet run \(alice, notes.txt\).*--force/);
    expect(() => prepareOutput(DEFAULT_CONFIG, out, { force: true })).not.toThrow();
  });

  it('refuses a file given as the output folder', () => {
    const out = join(dir(), 'file.txt');
    writeFileSync(out, 'x');
    expect(() => prepareOutput(DEFAULT_CONFIG, out, {})).toThrow(/--output .*file.txt is a file, not a folder/);
  });

  it('still says "holds another run" for a folder with a run', () => {
    const out = dir();
    writeFileSync(join(out, 'config.json'), '{}');
    expect(() => prepareOutput(DEFAULT_CONFIG, out, {})).toThrow(/holds another run; pass --resume/);
  });
});

describe('engineMemoryBudget: what a run may use, per backend', () => {
  it('wasm: the heap budget; native and cpu: 90 % of free RAM; tfjs-node: not known', async () => {
    const { engineMemoryBudget, WASM_HEAP_BUDGET } = await import('../src/memory.js');
    expect(engineMemoryBudget('wasm', 1e12)).toEqual({ bytes: WASM_HEAP_BUDGET, what: 'the wasm heap allows' });
    const native = engineMemoryBudget('native', 10 * 2 ** 30)!;
    expect(native.bytes).toBeCloseTo(9 * 2 ** 30, 0);
    expect(native.what).toMatch(/10\.00 GiB of RAM free/);
    expect(engineMemoryBudget('cpu', 2 ** 30)!.bytes).toBeCloseTo(0.9 * 2 ** 30, 0);
    expect(engineMemoryBudget('tensorflow')).toBeUndefined();
  });
});

describe('replicaMemoryRefusal: --workers on a heap per replica (wasm) vs shared host RAM (native)', () => {
  const GiB = 2 ** 30;
  // 1 GiB weights+optimizer, 0.25 GiB per image, no other base, 0.5 GiB head: a replica at 4 images = 2 GiB
  const memory = { engineBytes: 2.5 * GiB, fixedBytes: 1 * GiB, perImageBytes: 0.25 * GiB, headBytes: 0.5 * GiB, maxBatch: 0 };
  const run = { workers: 2, perWorker: 4, twoViews: false };
  it('wasm: each replica against its own heap; native: the sum of replicas and main thread against the RAM budget', async () => {
    const { replicaMemoryRefusal } = await import('../src/memory.js');
    // per replica 2 GiB fits a 3.5 GiB heap
    expect(replicaMemoryRefusal(memory, { ...run, backend: 'wasm', budget: { bytes: 3.5 * GiB, what: 'the wasm heap allows' } })).toBeUndefined();
    // native: 2 × 2 + (0.5 + 0.25) = 4.75 GiB: fits 5 GiB, not 4.5
    expect(replicaMemoryRefusal(memory, { ...run, backend: 'native', budget: { bytes: 5 * GiB, what: 'RAM' } })).toBeUndefined();
    const refusal = replicaMemoryRefusal(memory, { ...run, backend: 'native', budget: { bytes: 4.5 * GiB, what: 'Facet plans on' } });
    expect(refusal).toMatch(/needs about 4\.75 GiB of host memory: 2 workers × 2\.00 GiB at 4 images each .* \+ 0\.75 GiB on the main thread; Facet plans on 4\.50 GiB/);
    // largest fitting batch: ((4.5 − 0.75)/2 − 1)/0.25 = 3.5 → 3 per worker → 6
    expect(refusal).toMatch(/Lower --batch-size to 6 or below, use fewer --workers/);
    expect(replicaMemoryRefusal(memory, { ...run, backend: 'native', budget: undefined })).toBeUndefined();
  });
});

