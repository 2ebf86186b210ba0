// New identities drawn where the model's identities live (random-identities.ts), the BN-weight ramp, the 'auto'
// identity weight and the convergence rule, each against an independent computation (float64 loops, closed forms).
import { initEngine, tf } from '@facet/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bnWeightAt,
  convergedTarget,
  effectiveIdentityWeight,
  mixReference,
  randomIdentityWeights,
  referenceRows,
  resolveInversionOptions,
  sampleRandomIdentities,
} from '../src/index.js';
import { randomArray } from './tiny-net.js';

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});

/** float64 mean and sample covariance (denominator C − 1) of unit rows. */
function moments64(rows: number[][]): { mu: number[]; cov: number[][] } {
  const C = rows.length;
  const D = rows[0]!.length;
  const unit = rows.map((r) => {
    const n = Math.hypot(...r);
    return r.map((v) => v / n);
  });
  const mu = Array.from({ length: D }, (_, j) => unit.reduce((s, r) => s + r[j]!, 0) / C);
  const cov = mu.map((_, a) => mu.map((__, b) => unit.reduce((s, r) => s + (r[a]! - mu[a]!) * (r[b]! - mu[b]!), 0) / (C - 1)));
  return { mu, cov };
}

describe('random identities from a reference set', () => {
  it('Σ_k w_k r_k has the mean and covariance of the unit reference rows (closed form, 40 000 draws)', () => {
    const C = 5;
    const D = 3;
    const raw = Array.from({ length: C }, (_, i) => Array.from(randomArray(D, 40 + i)).map((v, j) => v + (j === 0 ? 1.5 : 0)));
    const { mu, cov } = moments64(raw);
    const n = 40_000;
    const ref = tf.tensor2d(raw.map((r) => r.map((v) => 3 * v))); // unnormalised on purpose: rows are normalised first
    const w = randomIdentityWeights(n, C, 3);
    const t = mixReference(w, ref);
    const samples = t.arraySync() as number[][];
    const weights = w.arraySync() as number[][];
    for (const row of weights.slice(0, 100)) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    const m = mu.map((_, j) => samples.reduce((s, r) => s + r[j]!, 0) / n);
    const c = mu.map((_, a) => mu.map((__, b) => samples.reduce((s, r) => s + (r[a]! - m[a]!) * (r[b]! - m[b]!), 0) / (n - 1)));
    // standard error of a mean ≈ √(Σ_jj / n) ≤ 0.005 here; of a covariance entry ≈ Σ·√(2/n) ≈ 0.007·Σ
    m.forEach((v, j) => expect(Math.abs(v - mu[j]!)).toBeLessThan(0.01));
    c.forEach((row, a) => row.forEach((v, b) => expect(Math.abs(v - cov[a]![b]!)).toBeLessThan(0.03 * Math.max(cov[a]![a]!, cov[b]![b]!) + 1e-4)));
    tf.dispose([ref, w, t]);
  });

  it('sub-centres [C, K, D] reduce to the normalised mean of each class\'s unit sub-centres', () => {
    const v = Array.from(randomArray(2 * 2 * 3, 7));
    const ref = tf.tensor3d(v, [2, 2, 3]);
    const rows = referenceRows(ref).arraySync() as number[][];
    for (let c = 0; c < 2; c++) {
      const a = v.slice(c * 6, c * 6 + 3);
      const b = v.slice(c * 6 + 3, c * 6 + 6);
      const na = Math.hypot(...a);
      const nb = Math.hypot(...b);
      const s = a.map((x, j) => x / na + b[j]! / nb);
      const ns = Math.hypot(...s);
      s.forEach((x, j) => expect(rows[c]![j]).toBeCloseTo(x / ns, 5));
    }
    ref.dispose();
  });

  it('targets are unit rows; the same seed gives the same identities; the sphere path has no weights', () => {
    const ref = tf.tensor2d(Array.from({ length: 4 }, (_, i) => Array.from(randomArray(8, i + 1))));
    const a = sampleRandomIdentities(6, 8, 2, ref);
    const b = sampleRandomIdentities(6, 8, 2, ref);
    const s = sampleRandomIdentities(6, 8, 2);
    expect(Array.from(a.targets.dataSync())).toEqual(Array.from(b.targets.dataSync()));
    for (const t of [a.targets, s.targets]) for (const r of t.arraySync()) expect(Math.hypot(...r)).toBeCloseTo(1, 5);
    expect(a.weights!.shape).toEqual([6, 4]);
    expect(s.weights).toBeUndefined();
    expect(() => randomIdentityWeights(2, 1, 0)).toThrow(/at least 2 reference embeddings/);
    tf.dispose([ref, a.targets, a.weights!, b.targets, b.weights!, s.targets]);
  });
});

describe('balance of the terms', () => {
  it('bnWeightAt: constant for f = 0 (paper); linear ramp over ⌈f·T⌉ steps, then λ', () => {
    expect(bnWeightAt(0, 100, 0.05, 0)).toBe(0.05);
    expect(bnWeightAt(99, 100, 0.05, 0)).toBe(0.05);
    // T = 10, f = 0.5: ramp of 5 steps, λ·(t + 1)/5
    [0.01, 0.02, 0.03, 0.04, 0.05, 0.05, 0.05].forEach((v, t) => expect(bnWeightAt(t, 10, 0.05, 0.5)).toBeCloseTo(v, 12));
    expect(bnWeightAt(2, 7, 1, 0.5)).toBeCloseTo(3 / 4, 12); // ⌈3.5⌉ = 4
  });

  it("identity weight 'auto': s/2 open set, 1 close set; a number is used as given; recipes fill the defaults", () => {
    const facet = resolveInversionOptions({ margin: { s: 32, m1: 1, m2: 0.5, m3: 0 } });
    expect(facet.recipe).toBe('facet');
    expect(facet.steps).toBe(600);
    expect(effectiveIdentityWeight(facet, false)).toBe(16);
    expect(effectiveIdentityWeight(facet, true)).toBe(1);
    expect(effectiveIdentityWeight({ ...facet, identityWeight: 3 }, false)).toBe(3);
    const paper = resolveInversionOptions({ recipe: 'paper' });
    expect([paper.steps, paper.identityWeight, paper.bnWeight, paper.bnRamp]).toEqual([2000, 1, 0.05, 0]);
    expect(effectiveIdentityWeight(paper, false)).toBe(1);
    expect(() => resolveInversionOptions({ recipe: 'x' as never })).toThrow(/recipe="x" must be "facet" or "paper"/);
    expect(() => resolveInversionOptions({ bnRamp: 2 })).toThrow(/bnRamp=2 must be a fraction/);
    expect(() => resolveInversionOptions({ convergedCosine: 3 })).toThrow(/convergedCosine=3/);
  });

  it('convergence: the cosine threshold, then the verifier above its impostor level where it scores', () => {
    expect(convergedTarget(0.71, null, null, 0.7)).toBe(true);
    expect(convergedTarget(0.69, null, null, 0.7)).toBe(false);
    expect(convergedTarget(0.9, 0.3, 0.2, 0.7)).toBe(true);
    expect(convergedTarget(0.9, 0.2, 0.3, 0.7)).toBe(false);
    expect(convergedTarget(0.9, 0.5, null, 0.7)).toBe(true); // one target: no impostor level
    expect(convergedTarget(Number.NaN, null, null, 0.7)).toBe(false);
  });
});
