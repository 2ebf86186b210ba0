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
