// Host-side building blocks: generator, float16 codec, the sharded centre store, shard ranges.
import { describe, expect, it } from 'vitest';
import { ClassCenterStore, classShardRange, decodeFloat16, encodeFloat16 } from '../src/index.js';
import { Xoshiro128 } from '../src/rng.js';
import { uniformFloat32 as uniform } from '@facet/test-utils';

describe('Xoshiro128', () => {
  it('is deterministic, resumable from its state, and its normals have mean 0 / variance 1', () => {
    const a = new Xoshiro128(7);
    const b = new Xoshiro128(7);
    for (let i = 0; i < 100; i++) expect(a.nextUint32()).toBe(b.nextUint32());
    const st = a.getState();
    const x = [a.nextUint32(), a.nextUint32()];
    b.setState(st);
    expect([b.nextUint32(), b.nextUint32()]).toEqual(x);
    expect(new Xoshiro128(8).nextUint32()).not.toBe(new Xoshiro128(7).nextUint32());
    const n = 400_000;
    let s1 = 0;
    let s2 = 0;
    let s4 = 0;
    const beyond = [1, 2, 3, 3.5].map(() => 0);
    for (let i = 0; i < n; i++) {
      const v = a.nextNormal();
      s1 += v;
      s2 += v * v;
      s4 += v ** 4;
      [1, 2, 3, 3.5].forEach((z, k) => {
        if (Math.abs(v) > z) beyond[k]!++;
      });
    }
    expect(Math.abs(s1 / n)).toBeLessThan(5 / Math.sqrt(n)); // 5 standard errors
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(s4 / n - 3)).toBeLessThan(5 * Math.sqrt(96 / n)); // kurtosis of N(0,1); Var(x⁴) = 96
    // two-sided tail masses 2·(1 − Φ(z)), including the ziggurat's base strip beyond r ≈ 3.44
    [0.317311, 0.0455003, 0.0026998, 0.000465].forEach((p, k) => {
      expect(Math.abs(beyond[k]! / n - p), `P(|x| > ${[1, 2, 3, 3.5][k]})`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    });
    expect(() => a.setState([1, 2, 3])).toThrow(/4 uint32/);
  });
});

describe('float16 codec', () => {
  it('round-trips every finite half exactly', () => {
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = decodeFloat16(h);
      // +0 / −0 keep their sign bit
      if (Number.isFinite(v) && encodeFloat16(v) !== h) bad.push(h.toString(16));
    }
    expect(bad).toEqual([]);
  });

  it('rounds to the nearest half, ties to even; overflow → Infinity, underflow → 0', () => {
    const xs = uniform(20_000, 3).map((v, i) => v * 2 ** ((i % 40) - 26));
    let worse = 0;
    for (const x of xs) {
      const h = encodeFloat16(x);
      const d = Math.abs(decodeFloat16(h) - x);
      // no neighbouring half is closer
      for (const nb of [h - 1, h + 1]) {
        if ((nb & 0x7fff) > 0x7bff || nb < 0 || (nb ^ h) & 0x8000) continue;
        if (d > Math.abs(decodeFloat16(nb) - x)) worse++;
      }
    }
    expect(worse).toBe(0);
    expect(decodeFloat16(encodeFloat16(1 + 2 ** -11))).toBe(1); // tie → even mantissa
    expect(decodeFloat16(encodeFloat16(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(decodeFloat16(encodeFloat16(70000))).toBe(Infinity);
    expect(decodeFloat16(encodeFloat16(-1e-9))).toBe(-0);
    expect(decodeFloat16(encodeFloat16(2 ** -24))).toBe(2 ** -24);
    expect(Number.isNaN(decodeFloat16(encodeFloat16(NaN)))).toBe(true);
  });
});

describe('ClassCenterStore', () => {
  it('shards rows without straddling, gathers/scatters in any order, initialises N(0, 0.01)', () => {
    const st = new ClassCenterStore({ numClasses: 1000, embeddingSize: 16, subCenters: 3, slots: ['momentum'], maxShardBytes: 10_000 });
    expect(st.rowsPerShard).toBe(Math.floor(10_000 / (3 * 16 * 4)));
    expect(st.shards.length).toBe(Math.ceil(1000 / st.rowsPerShard));
    for (const s of st.shards) expect(s.byteLength).toBeLessThanOrEqual(10_000);
    expect(st.slot('momentum').length).toBe(st.shards.length);
    const all = st.exportWeights();
    let s1 = 0;
    let s2 = 0;
    for (const v of all) {
      s1 += v;
      s2 += v * v;
    }
    expect(Math.abs(s1 / all.length)).toBeLessThan(5 * 0.01 / Math.sqrt(all.length));
    expect(Math.sqrt(s2 / all.length)).toBeCloseTo(0.01, 3);
    const idx = Int32Array.from([999, 0, 51, 52, 500]);
    const rows = st.gatherRows(idx);
    idx.forEach((c, i) => expect(Array.from(rows.subarray(i * 48, (i + 1) * 48))).toEqual(Array.from(all.subarray(c * 48, (c + 1) * 48))));
    const fresh = uniform(idx.length * 48, 9);
    st.scatterRows(idx, fresh);
    const after = st.exportWeights();
    idx.forEach((c, i) => expect(Array.from(after.subarray(c * 48, (c + 1) * 48))).toEqual(Array.from(fresh.subarray(i * 48, (i + 1) * 48))));
    expect(after[48]).toBe(all[48]); // class 1 untouched
    expect(st.hostBytes).toBe(1000 * 48 * 8);
    expect(() => st.gatherRows([1000])).toThrow(/index 1000 at position 0 is outside \[0, 1000\)/);
    expect(() => st.slot('expAvg')).toThrow(/no optimizer slot 'expAvg'/);
  });

  it('the same seed gives the same centres whatever the shard size; float16 storage rounds', () => {
    const a = new ClassCenterStore({ numClasses: 50, embeddingSize: 8, seed: 5 });
    const b = new ClassCenterStore({ numClasses: 50, embeddingSize: 8, seed: 5 });
    expect(a.exportWeights()).toEqual(b.exportWeights());
    const h = new ClassCenterStore({ numClasses: 50, embeddingSize: 8, seed: 5, storage: 'float16' });
    expect(h.shards[0]).toBeInstanceOf(Uint16Array);
    expect(h.hostBytes).toBe(50 * 8 * 2);
    const v = uniform(8, 1);
    h.scatterRows([3], v);
    const back = h.readRow(3);
    v.forEach((x, j) => expect(back[j]).toBe(decodeFloat16(encodeFloat16(x))));
    expect(() => h.importWeights(new Float32Array(3))).toThrow(/Float32Array of 400 values/);
  });
});

describe('classShardRange', () => {
  it('partitions [0, C) with C//N + (rank < C%N) classes per shard', () => {
    for (const [C, N] of [[10, 3], [7, 7], [100, 1], [5, 2], [1_000_003, 8]] as const) {
      let next = 0;
      for (let r = 0; r < N; r++) {
        const { start, count } = classShardRange(C, N, r);
        expect(start).toBe(next);
        expect(count).toBe(Math.floor(C / N) + (r < C % N ? 1 : 0));
        next += count;
      }
      expect(next).toBe(C);
    }
    expect(() => classShardRange(10, 3, 3)).toThrow(/rank=3 must be in \[0, 3\)/);
  });
});
