// The disk-backed class-centre store: row I/O by sampled index (runs and scattered rows, fp32 and fp16), lazy
// initialisation, persistence, and Partial FC training on it bit-identical to the in-memory store.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { decodeFloat16, DiskClassCenterStore, encodeFloat16, PartialFC, type PartialFCOptions } from '../src/index.js';
import { uniformFloat32 as uniform } from '@facet/test-utils';

const root = mkdtempSync(join(tmpdir(), 'facet-pfc-disk-'));
let dirs = 0;
const freshDir = () => join(root, `s${dirs++}`);

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('DiskClassCenterStore', () => {
  it('scatters and gathers rows by index: consecutive runs, scattered and repeated indices, any order', () => {
    const st = new DiskClassCenterStore({ directory: freshDir(), numClasses: 5000, embeddingSize: 8, subCenters: 2, slots: ['momentum'] });
    // 0..4199 crosses the 4096-row run limit; the rest are scattered
    const idx = Int32Array.from([...Array.from({ length: 4200 }, (_, i) => i), 4300, 4302, 4999, 4400]);
    const rows = uniform(idx.length * 16, 3);
    st.scatterRows(idx, rows);
    expect(st.gatherRows(idx)).toEqual(rows);
    // reversed order gives the rows reversed
    const rev = Int32Array.from(idx).reverse();
    const got = st.gatherRows(rev);
    for (let i = 0; i < idx.length; i++) expect(got.subarray(i * 16, i * 16 + 16)).toEqual(rows.subarray((idx.length - 1 - i) * 16, (idx.length - i) * 16));
    // slots start at zero (sparse file) and hold what is written
    expect(st.gatherSlotRows('momentum', [7, 4999]).every((v) => v === 0)).toBe(true);
    st.scatterSlotRows('momentum', [4999, 7], uniform(32, 9));
    expect(st.gatherSlotRows('momentum', [7, 4999])).toEqual(Float32Array.from([...uniform(32, 9).subarray(16), ...uniform(32, 9).subarray(0, 16)]));
    st.close();
    expect(() => st.gatherRows([0])).toThrow(/closed/);
  });

  it('initialises rows lazily from per-row streams: N(0, σ²), the same values in any gather order, nothing written', () => {
    const dir = freshDir();
    const st = new DiskClassCenterStore({ directory: dir, numClasses: 20_000, embeddingSize: 64, initStd: 0.01, seed: 4 });
    const all = st.gatherRows(Int32Array.from({ length: 20_000 }, (_, i) => i));
    let s1 = 0;
    let s2 = 0;
    for (const v of all) {
      s1 += v;
      s2 += v * v;
    }
    const n = all.length;
    const mean = s1 / n;
    const std = Math.sqrt(s2 / n - mean * mean);
    // 1.28M draws: the standard error of the mean is σ/√n ≈ 9e-6, of the std ≈ σ/√(2n) ≈ 6e-6
    expect(Math.abs(mean)).toBeLessThan(5 * 0.01 / Math.sqrt(n));
    expect(Math.abs(std - 0.01)).toBeLessThan(5 * 0.01 / Math.sqrt(2 * n));
    // a row's values do not depend on what else is gathered with it
    expect(st.gatherRows([12_345])).toEqual(all.subarray(12_345 * 64, 12_346 * 64));
    expect(st.gatherRows([19_999, 3])).toEqual(Float32Array.from([...all.subarray(19_999 * 64), ...all.subarray(3 * 64, 4 * 64)]));
    // different rows are different streams (no two rows equal)
    expect(all.subarray(0, 64)).not.toEqual(all.subarray(64, 128));
    // the file is sparse: reading initial values wrote nothing
    expect(statSync(join(dir, 'centers.f32')).blocks * 512).toBeLessThan(64 * 1024);
    st.close();
  });

  it('float16 files hold the half-precision rounding of the rows', () => {
    const st = new DiskClassCenterStore({ directory: freshDir(), numClasses: 100, embeddingSize: 8, storage: 'float16' });
    const rows = uniform(3 * 8, 5).map((v) => v * 3);
    st.scatterRows([10, 11, 50], rows);
    const got = st.gatherRows([10, 11, 50]);
    for (let i = 0; i < rows.length; i++) expect(got[i]).toBe(decodeFloat16(encodeFloat16(rows[i]!)));
    // the initial values of unwritten rows are already representable in half precision
    for (const v of st.gatherRows([0])) expect(decodeFloat16(encodeFloat16(v))).toBe(v);
    st.close();
  });

  it("'open' continues a closed store; mismatched options and a missing store are refused", () => {
    const dir = freshDir();
    const opts = { directory: dir, numClasses: 300, embeddingSize: 4, slots: ['momentum'], seed: 1 };
    const a = new DiskClassCenterStore(opts);
    a.scatterRows([5, 299], uniform(8, 2));
    a.scatterSlotRows('momentum', [5], uniform(4, 6));
    const before = a.gatherRows(Int32Array.from({ length: 300 }, (_, i) => i));
    a.close();
    const b = new DiskClassCenterStore({ ...opts, mode: 'open' });
    expect(b.gatherRows(Int32Array.from({ length: 300 }, (_, i) => i))).toEqual(before);
    expect(b.gatherSlotRows('momentum', [5])).toEqual(uniform(4, 6));
    b.close();
    expect(() => new DiskClassCenterStore({ ...opts, embeddingSize: 8, mode: 'open' })).toThrow(/embeddingSize=4, these options 8/);
    expect(() => new DiskClassCenterStore({ ...opts, directory: join(root, 'nothing-here'), mode: 'open' })).toThrow(/no store in .*meta.json missing/);
    expect(() => new DiskClassCenterStore({ ...opts, directory: '' })).toThrow(/directory must be a path/);
    expect(() => new DiskClassCenterStore({ ...opts, numClasses: 0 })).toThrow(/numClasses=0 must be a positive integer/);
    const c = new DiskClassCenterStore(opts);
    expect(() => c.gatherRows([300])).toThrow(/index 300 at position 0 is outside \[0, 300\)/);
    expect(() => c.gatherSlotRows('adam', [1])).toThrow(/no optimizer slot 'adam' \(have: momentum\)/);
    c.close();
  });
});

describe('PartialFC on a disk-backed store', () => {
  const B = 6;
  const D = 8;
  const C = 40;

  function step(pfc: PartialFC, s: number) {
    const emb = uniform(B * D, 900 + s).map((v) => 3 * v);
    const labels = Int32Array.from({ length: B }, (_, i) => (i * 7 + s * 5) % C);
    const x = tf.tensor2d(emb, [B, D]);
    const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => pfc.forward(e as tf.Tensor2D, labels))(x);
    const out = { loss: value.dataSync()[0]!, dEmb: grad.dataSync().slice(), sampled: Array.from(pfc.lastSampledClasses()!) };
    tf.dispose([x, value, grad]);
    pfc.step();
    return out;
  }

  for (const optimizer of [
    { type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
    { type: 'adamw', lr: 0.01 },
  ] as const) {
    it(`trains bit-identically to the in-memory store (${optimizer.type}, rate 0.5, 3 steps), tensor count flat`, () => {
      const opts: PartialFCOptions = { numClasses: C, embeddingSize: D, sampleRate: 0.5, optimizer, seed: 12 };
      const mem = new PartialFC(opts);
      const disk = new PartialFC({ ...opts, disk: { directory: freshDir() } });
      // same starting centres (the two stores draw their initial values differently)
      disk.setState(mem.getState());
      const n0 = tf.memory().numTensors;
      for (let s = 0; s < 3; s++) {
        const a = step(mem, s);
        const b = step(disk, s);
        expect(b.sampled).toEqual(a.sampled);
        expect(b.loss).toBe(a.loss);
        expect(b.dEmb).toEqual(a.dEmb);
      }
      expect(tf.memory().numTensors).toBe(n0);
      const sm = mem.getState();
      const sd = disk.getState();
      expect(sd.weights).toEqual(sm.weights);
      for (const slot of optimizer.type === 'sgd' ? (['momentum'] as const) : (['expAvg', 'expAvgSq'] as const)) expect(sd[slot]).toEqual(sm[slot]);
      mem.dispose();
      disk.dispose();
    });
  }

  it('a disposed disk head can be reopened and continues where it stopped', () => {
    const dir = freshDir();
    const opts: PartialFCOptions = { numClasses: C, embeddingSize: D, sampleRate: 0.5, seed: 3 };
    const a = new PartialFC({ ...opts, disk: { directory: dir } });
    step(a, 0);
    const w = a.store.exportWeights();
    const mom = a.store.exportSlot('momentum');
    a.dispose();
    const b = new PartialFC({ ...opts, disk: { directory: dir, mode: 'open' } });
    expect(b.store.exportWeights()).toEqual(w);
    expect(b.store.exportSlot('momentum')).toEqual(mom);
    b.dispose();
  });

  it('refuses an in-memory head over the host budget before allocating, with the numbers, and points to disk', () => {
    const big = { numClasses: 10_000_000, embeddingSize: 512, sampleRate: 0.01 };
    // 10M × 512 × (4 B centres + 4 B momentum) ≈ 38 GiB
    expect(() => new PartialFC({ ...big, hostBudgetBytes: 20 * 1024 ** 3 })).toThrow(/need about 38\.15 GiB of host memory .* over the budget of 20\.00 GiB .*disk: \{ directory \}/);
    const dir = freshDir();
    const small = new PartialFC({ numClasses: 50_000, embeddingSize: 64, sampleRate: 0.1, hostBudgetBytes: 40 * 1024 ** 2, disk: { directory: dir } });
    expect(small.estimateMemory(128).hostBytes).toBeLessThan(40 * 1024 ** 2);
    small.dispose();
    expect(existsSync(join(dir, 'written.bits'))).toBe(true);
    expect(() => new PartialFC({ numClasses: 50_000, embeddingSize: 64, hostBudgetBytes: 40 * 1024 ** 2 })).toThrow(/in memory .*over the budget/);
    expect(() => new PartialFC({ numClasses: 5, embeddingSize: 4, disk: { dir: 'x' } as never })).toThrow(/disk must be \{ directory: string/);
  });
});
