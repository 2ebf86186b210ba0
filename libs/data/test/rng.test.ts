import { describe, expect, it } from 'vitest';
import { makeRng, mixSeed, shuffleInPlace } from '../src/rng.js';

describe('makeRng (xoshiro128**)', () => {
  it('is deterministic by seed and differs across seeds', () => {
    const a = makeRng(42);
    const b = makeRng(42);
    const c = makeRng(43);
    const xa = Array.from({ length: 50 }, () => a.uint32());
    expect(Array.from({ length: 50 }, () => b.uint32())).toEqual(xa);
    expect(Array.from({ length: 50 }, () => c.uint32())).not.toEqual(xa);
  });

  it('matches the xoshiro128** recurrence computed independently with BigInt', () => {
    const r = makeRng(7);
    let [s0, s1, s2, s3] = r.getState().map(BigInt) as [bigint, bigint, bigint, bigint];
    const M = 0xffffffffn;
    const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
    for (let i = 0; i < 100; i++) {
      const expected = (rotl((s1 * 5n) & M, 7n) * 9n) & M;
      const t = (s1 << 9n) & M;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11n);
      expect(r.uint32()).toBe(Number(expected));
    }
  });

  it('getState/setState resume the stream exactly (normal() included)', () => {
    const r = makeRng(5);
    r.normal();
    r.next();
    const st = r.getState();
    const tail = [r.normal(), r.next(), r.int(1000), r.uniform(-2, 3)];
    const r2 = makeRng(999);
    r2.setState(st);
    expect([r2.normal(), r2.next(), r2.int(1000), r2.uniform(-2, 3)]).toEqual(tail);
    expect(() => r2.setState([0, 0, 0, 0])).toThrow(/not all zero/);
  });

  it('next() is uniform on [0,1): mean, variance and a 10-bin chi-square', () => {
    const r = makeRng(1);
    const n = 200_000;
    const bins = new Array(10).fill(0);
    let sum = 0;
    let sq = 0;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
      sum += x;
      sq += x * x;
      bins[Math.floor(x * 10)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sq / n - sum * sum / n / n - 1 / 12)).toBeLessThan(0.002);
    const chi2 = bins.reduce((a, c) => a + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
  });

  it('int(n) covers [0, n) evenly and normal() has mean 0, variance 1', () => {
    const r = makeRng(3);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(450);
    let s = 0;
    let s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.015);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(() => r.int(0)).toThrow(/integer/);
  });

  it('mixSeed separates nearby tuples and shuffleInPlace gives a permutation', () => {
    const seen = new Set<number>();
    for (let e = 0; e < 20; e++) for (let i = 0; i < 50; i++) seen.add(mixSeed(0, e, i));
    expect(seen.size).toBe(1000);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(2 ** 40 + 1)).not.toBe(mixSeed(1));
    const a = Int32Array.from({ length: 100 }, (_, i) => i);
    shuffleInPlace(a, makeRng(9));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...a]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
