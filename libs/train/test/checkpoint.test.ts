import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latestCheckpoint, readCheckpoint, writeCheckpoint } from '../src/checkpoint.js';

describe('atomic checkpoints', () => {
  it('round-trips arrays of every dtype bit-exactly and keeps the last two', () => {
    const root = mkdtempSync(join(tmpdir(), 'facet-ck-'));
    const arrays = {
      w: new Float32Array([1.5, -2.25, Math.PI, Number.MIN_VALUE]),
      idx: new Int32Array([3, -1, 7]),
      bytes: new Uint8Array([1, 2, 3]),
      half: new Uint16Array([15360, 49152]),
    };
    for (const step of [10, 20, 30]) writeCheckpoint(root, step, { meta: { step, note: 'x' }, arrays });
    const dirs = readdirSync(join(root, 'checkpoints')).filter((d) => d.startsWith('step-'));
    expect(dirs).toEqual(['step-00000020', 'step-00000030']);
    const c = readCheckpoint(latestCheckpoint(root)!);
    expect(c.step).toBe(30);
    expect(c.meta).toEqual({ step: 30, note: 'x' });
    for (const [k, a] of Object.entries(arrays)) {
      expect(c.arrays[k]!.constructor).toBe(a.constructor);
      expect(Array.from(c.arrays[k]!)).toEqual(Array.from(a));
    }
  });

  it('a crash mid-write leaves the previous checkpoint as the latest', () => {
    const root = mkdtempSync(join(tmpdir(), 'facet-ck-'));
    writeCheckpoint(root, 5, { meta: {}, arrays: { a: new Float32Array([1]) } });
    // what a crash during the next write leaves behind: a temporary directory, no rename, no pointer update
    const tmp = join(root, 'checkpoints', '.tmp-step-00000006-1');
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'tensors.bin'), 'partial');
    expect(latestCheckpoint(root)).toMatch(/step-00000005$/);
    // pointer lost: the newest complete directory is used
    rmSync(join(root, 'checkpoints', 'latest.json'));
    expect(latestCheckpoint(root)).toMatch(/step-00000005$/);
    expect(existsSync(join(latestCheckpoint(root)!, 'state.json'))).toBe(true);
  });

  it('a truncated tensors file is reported, not read as zeros', () => {
    const root = mkdtempSync(join(tmpdir(), 'facet-ck-'));
    const path = writeCheckpoint(root, 1, { meta: {}, arrays: { a: new Float32Array(100) } });
    writeFileSync(join(path, 'tensors.bin'), Buffer.alloc(12));
    expect(() => readCheckpoint(path)).toThrow(/tensors.bin is truncated/);
  });
});
