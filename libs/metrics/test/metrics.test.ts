import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import {
  alignment,
  boundTerms,
  centerDivergence,
  classCenters,
  concentration,
  concentrationFromViews,
  forEachGramBlock,
  nearestCenterAccuracy,
  rEpsilon,
  uniformity,
} from '../src/index.js';
import { sampleIndices } from '../src/embedding-matrix.js';
import { clusteredViews } from './fixtures.js';
import {
  dist,
  randomArray,
  refAlignment,
  refCenters,
  refClassSigma,
  refClassSigmaViews,
  refDivergence,
  refNearestCenterAccuracy,
  refUniformity,
  toRows,
  unit,
} from './reference.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const set = clusteredViews({ n: 60, dim: 6, classes: 5, spread: 0.5, viewNoise: 0.3, seed: 11 });
const r1 = toRows(set.v1.data, 6);
const r2 = toRows(set.v2.data, 6);

describe('alignment and R_ε', () => {
  it('matches the float64 loop for α = 2 (L_align), 1 and 0.5, on unnormalized input', () => {
    for (const alpha of [2, 1, 0.5]) {
      expect(alignment(set.v1, set.v2, { alpha })).toBeCloseTo(refAlignment(r1, r2, alpha), 10);
    }
    expect(alignment(set.v1, set.v2)).toBeCloseTo(refAlignment(r1, r2, 2), 10);
  });

  it('accepts a Tensor2D and plain rows with the same result', () => {
    const t1 = tf.tensor2d(set.v1.data, [60, 6]);
    const t2 = tf.tensor2d(set.v2.data, [60, 6]);
    expect(alignment(t1, t2)).toBeCloseTo(alignment(r1, r2), 12);
    tf.dispose([t1, t2]);
  });

  it('R_ε counts the pairs farther apart than ε', () => {
    for (const epsilon of [0.1, 0.3, 0.6]) {
      const expected = r1.filter((r, i) => dist(unit(r), unit(r2[i]!)) > epsilon).length / r1.length;
      expect(rEpsilon(set.v1, set.v2, { epsilon })).toBe(expected);
    }
  });
});

describe('uniformity', () => {
  it('blocked (tiles of 7 rows, 1024 rows) equals the direct float64 pairwise computation', () => {
    const ref = refUniformity(r1, 2);
    expect(uniformity(set.v1)).toBeCloseTo(ref, 6);
    expect(uniformity(set.v1, { blockRows: 7 })).toBeCloseTo(ref, 6);
    expect(uniformity(set.v1, { t: 0.5, blockRows: 13 })).toBeCloseTo(refUniformity(r1, 0.5), 6);
  });

  it('maxPoints estimates on a seeded subset', () => {
    const idx = Array.from(sampleIndices(60, 25, 3));
    expect(uniformity(set.v1, { maxPoints: 25, seed: 3 })).toBeCloseTo(refUniformity(idx.map((i) => r1[i]!), 2), 6);
  });

  it('blocked vs direct on a larger set, with engine memory bounded by the tile size, not N²', () => {
    const n = 2500;
    const dim = 8;
    const data = randomArray(n * dim, 5);
    const x = { data, dim };
    const before = tf.memory().numBytes;
    let peak = 0;
    const blockRows = 256;
    let tiles = 0;
    forEachGramBlock(x, x, () => ((peak = Math.max(peak, tf.memory().numBytes - before)), tiles++), { blockRows, symmetric: true });
    // one row block + (freed column block) + one tile, in bytes
    expect(peak).toBeLessThanOrEqual(4 * (blockRows * dim + blockRows * blockRows));
    expect(peak).toBeLessThan(4 * n * n * 0.05);
    expect(tiles).toBe((10 * 11) / 2);
    expect(tf.memory().numBytes).toBe(before);
    expect(uniformity(x, { blockRows })).toBeCloseTo(refUniformity(toRows(data, dim), 2), 6);
  });
});

describe('class centres and divergence', () => {
  it('centres are the mean of normalized rows over both views, not renormalized', () => {
    const c = classCenters([set.v1, set.v2], set.labels);
    const ref = refCenters([r1, r2], set.labels);
    expect(c.classIds).toEqual([...ref.keys()]);
    expect(c.views).toBe(2);
    [...ref.values()].forEach((mu, k) => {
      for (let j = 0; j < 6; j++) expect(c.centers[k * 6 + j]).toBeCloseTo(mu[j]!, 12);
      expect(c.squaredNorms[k]).toBeLessThan(1);
    });
    // a single matrix and plain rows work too
    const single = classCenters(r1, set.labels);
    const refSingle = [...refCenters([r1], set.labels).values()];
    expect(single.centers[0]).toBeCloseTo(refSingle[0]![0]!, 12);
  });

  it('every divergence figure matches the float64 pairwise loop, blocked or not', () => {
    const ref = refDivergence(refCenters([r1, r2], set.labels));
    for (const blockRows of [2, 1024]) {
      const d = centerDivergence([set.v1, set.v2], set.labels, { blockRows, histogramBins: 10 });
      expect(d.classes).toBe(5);
      expect(d.minL2).toBeCloseTo(ref.minL2, 10);
      expect(d.maxPairwiseCosine).toBeCloseTo(ref.maxCos, 10);
      expect(d.minCosineDistance).toBeCloseTo(1 - ref.maxCos, 10);
      expect(d.meanPairwiseCosine).toBeCloseTo(ref.meanCos, 6);
      expect(d.maxInnerProduct).toBeCloseTo(ref.maxIp, 10);
      expect(d.deltaMu).toBeCloseTo(ref.deltaMu, 10);
      const counts = new Array(10).fill(0);
      for (const c of ref.cosines) counts[Math.min(9, Math.floor(((c + 1) / 2) * 10))]++;
      expect(d.cosineHistogram.counts).toEqual(counts);
      expect(d.cosineHistogram.edges).toHaveLength(11);
    }
  });

  it('keeps minL2 exact when two centres nearly coincide (float64 recomputation)', () => {
    const rows = [
      [1, 0, 0],
      [1, Math.fround(1e-4), 0],
      [0, 1, 0],
    ];
    // the float32 tile alone would give ||µ0 - µ1||² = 2 - 2·cos with an error of ~1e-7 ≫ 1e-8 = the true value
    const d = centerDivergence(rows, [0, 1, 2]);
    expect(d.minL2).toBeCloseTo(dist(unit(rows[0]!), unit(rows[1]!)), 12);
    expect(d.closestPair).toEqual([0, 1]);
  });
});

describe('concentration σ(δ)', () => {
  const deltas = [0.2, 0.5, 1, 1.5, 2];
  const members = (label: number) => set.labels.flatMap((l, i) => (l === label ? [i] : []));

  it('with every sample a candidate, matches the brute-force ball count per class', () => {
    const c = concentration(set.v1, set.v2, set.labels, { deltas });
    expect(c.deltas).toEqual(deltas);
    for (const pc of c.perClass) {
      const m = members(pc.classId);
      const ref = refClassSigma(r1, r2, m, m, deltas);
      pc.sigma.forEach((s, t) => expect(s).toBeCloseTo(ref[t]!, 12));
    }
    deltas.forEach((_, t) => {
      expect(c.sigma[t]).toBe(Math.min(...c.perClass.map((p) => p.sigma[t]!)));
      expect(c.meanSigma[t]).toBeCloseTo(c.perClass.reduce((s, p) => s + p.count * p.sigma[t]!, 0) / 60, 12);
    });
    // σ is non-decreasing in δ
    for (let t = 1; t < deltas.length; t++) expect(c.sigma[t]).toBeGreaterThanOrEqual(c.sigma[t - 1]!);
  });

  it('blocked (odd tile size 5 → 4 rows) equals unblocked; a candidate subset matches the reference on it', () => {
    const a = concentration(set.v1, set.v2, set.labels, { deltas });
    const b = concentration(set.v1, set.v2, set.labels, { deltas, blockRows: 5 });
    expect(b.perClass).toEqual(a.perClass);
    const sub = concentration(set.v1, set.v2, set.labels, { deltas, candidates: 4, seed: 9 });
    sub.perClass.forEach((pc, k) => {
      const m = members(pc.classId);
      const picks = Array.from(sampleIndices(m.length, 4, 9 + k), (p) => m[p]!);
      expect(pc.sigma).toEqual(refClassSigma(r1, r2, m, picks, deltas).map((x) => expect.closeTo(x, 12)));
    });
  });

  it('V views: matches the brute-force min over V² view pairs, and more views never lower σ', () => {
    const third = clusteredViews({ n: 60, dim: 6, classes: 5, spread: 0.5, viewNoise: 0.3, seed: 77, directionSeed: 11 });
    const r3 = toRows(third.v1.data, 6);
    // a third view: v1 shifted by another noise draw (any third matrix works for both checks)
    const v3 = r1.map((row, i) => row.map((x, j) => x - r2[i]![j]! + r3[i]![j]!));
    const c3 = concentrationFromViews([set.v1, set.v2, v3], set.labels, { deltas, blockRows: 7 });
    expect(c3.views).toBe(3);
    const c2 = concentration(set.v1, set.v2, set.labels, { deltas });
    c3.perClass.forEach((pc, k) => {
      const m = members(pc.classId);
      expect(pc.sigma).toEqual(refClassSigmaViews([r1, r2, v3], m, m, deltas).map((x) => expect.closeTo(x, 12)));
      pc.sigma.forEach((s, t) => expect(s).toBeGreaterThanOrEqual(c2.perClass[k]!.sigma[t]!));
    });
  });

  it('closed form: a tight core of 6 and 2 far outliers per class gives σ = 6/8 for mid-range δ', () => {
    const v1: number[][] = [];
    const v2: number[][] = [];
    const labels: number[] = [];
    for (const [k, axis] of [[0, 0], [1, 1]] as const) {
      for (let i = 0; i < 8; i++) {
        const p = [0, 0, 0];
        if (i < 6) p[axis] = 1, (p[2] = 0.01 * i);
        else p[axis] = -1, (p[2] = i === 6 ? 1 : -1);
        v1.push(p);
        v2.push(p.map((x, j) => (j === 2 ? x + 0.001 : x)));
        labels.push(k);
      }
    }
    const c = concentration(v1, v2, labels, { deltas: [0.2, 0.5] });
    expect(c.sigma).toEqual([6 / 8, 6 / 8]);
    // raw (unnormalized) vectors need a δ grid in input units
    expect(() => concentration(v1, v2, labels, { normalize: false })).toThrow(/pass `deltas`/);
    const raw = concentration(v1, v2, labels, { normalize: false, deltas: [0.2] });
    expect(raw.sigma).toEqual([6 / 8]);
  });
});

describe('bound terms (Theorem 1)', () => {
  it('evaluates ρ_max, the Eq. 2 threshold and the Eq. 3 bound from their definitions', () => {
    const inputs = { sigma: 0.9, delta: 0.2, epsilon: 0.05, rEpsilon: 0.01, minClassProbability: 0.2, maxInnerProduct: -0.3, deltaMu: 0.1 };
    const b = boundTerms(inputs);
    // ρ = 2·0.1 + 0.01/0.2 + 0.9·(0.2 + 0.1) = 0.2 + 0.05 + 0.27 = 0.52
    expect(b.rhoMax).toBeCloseTo(0.52, 12);
    expect(b.divergenceThreshold).toBeCloseTo(1 - 0.52 - Math.sqrt(1.04) - 0.05, 12);
    expect(b.divergenceHolds).toBe(-0.3 < 1 - 0.52 - Math.sqrt(1.04) - 0.05);
    expect(b.errorBound).toBeCloseTo(0.11, 12);
    expect(b.inputs.lipschitz).toBe(1);
    // L and r enter as Lδ/r and 2ε/r, and the threshold scales with r²
    const scaled = boundTerms({ ...inputs, lipschitz: 2, radius: 2 });
    expect(scaled.rhoMax).toBeCloseTo(0.2 + 0.05 + 0.9 * (0.2 + 0.05), 12);
    expect(scaled.divergenceThreshold).toBeCloseTo(4 * (1 - scaled.rhoMax - Math.sqrt(2 * scaled.rhoMax) - 0.05), 12);
    // the condition flips exactly at the threshold
    expect(boundTerms({ ...inputs, sigma: 1, rEpsilon: 0, epsilon: 0, delta: 0, maxInnerProduct: 0.94 }).divergenceHolds).toBe(true);
    expect(boundTerms({ ...inputs, sigma: 1, rEpsilon: 0, epsilon: 0, delta: 0, maxInnerProduct: 0.96 }).divergenceHolds).toBe(false);
  });

  it('rejects out-of-range inputs with the option name', () => {
    expect(() => boundTerms({ sigma: 1.2, delta: 0, epsilon: 0, rEpsilon: 0, minClassProbability: 0.1, maxInnerProduct: 0, deltaMu: 0 })).toThrow(/sigma must be/);
    expect(() => boundTerms({ sigma: 1, delta: 0, epsilon: 0, rEpsilon: 0, minClassProbability: 0, maxInnerProduct: 0, deltaMu: 0 })).toThrow(/minClassProbability/);
  });
});

describe('nearest-centre accuracy', () => {
  it('matches argmin ||f̂(x) - µ_k|| computed in float64, for blocked and unblocked tiles', () => {
    // same class directions as `set` (the test set), other images and views
    const train = clusteredViews({ n: 80, dim: 6, classes: 5, spread: 0.9, viewNoise: 0.6, seed: 21, directionSeed: 11 });
    const ref = refNearestCenterAccuracy(
      [toRows(train.v1.data, 6), toRows(train.v2.data, 6)],
      train.labels,
      [toRows(set.v1.data, 6)],
      set.labels,
    );
    for (const blockRows of [3, 1024]) {
      const acc = nearestCenterAccuracy({ x: [train.v1, train.v2], labels: train.labels }, { x: set.v1, labels: set.labels }, { blockRows });
      expect(acc.accuracy).toBeCloseTo(ref, 12);
      expect(acc.total).toBe(60);
      expect(acc.accuracy).toBeGreaterThan(0.5); // well above chance (0.2): the fixture has real class structure
    }
  });

  it('a test class without a train centre is an error, not a silent miss', () => {
    expect(() => nearestCenterAccuracy({ x: r1.slice(0, 10), labels: set.labels.slice(0, 10) }, { x: [[1, 0, 0, 0, 0, 0]], labels: [999] })).toThrow(
      /test label 999 .* no class centre/,
    );
  });
});

describe('bad input', () => {
  it('names the argument and the fix', () => {
    expect(() => alignment(set.v1, { data: new Float32Array(12), dim: 6 })).toThrow(/v1 has 60 rows but v2 has 2/);
    expect(() => alignment({ data: new Float32Array(7), dim: 6 }, set.v2)).toThrow(/not a multiple of dim/);
    expect(() => uniformity({ data: new Float32Array([1, 0, 0, 0]), dim: 2 })).toThrow(/row 1 has zero norm/);
    expect(() => uniformity({ data: new Float32Array([1, NaN]), dim: 2 })).toThrow(/non-finite/);
    expect(() => classCenters(set.v1, set.labels.slice(1))).toThrow(/59 entries but there are 60 embeddings/);
    expect(() => classCenters(set.v1, set.labels.map((l) => l + 0.5))).toThrow(/not a non-negative integer/);
    expect(() => centerDivergence(set.v1, new Array(60).fill(1))).toThrow(/at least 2 classes/);
    expect(() => concentration(set.v1, set.v2, set.labels, { deltas: [-1] })).toThrow(/deltas must be finite numbers > 0/);
    expect(() => rEpsilon(set.v1, set.v2, { epsilon: 0 })).toThrow(/epsilon must be/);
  });
});
