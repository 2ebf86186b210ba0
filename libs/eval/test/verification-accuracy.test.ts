import { describe, expect, it } from 'vitest';
import {
  insightfaceCosineThresholds,
  insightfaceL2Thresholds,
  kFoldRanges,
  verificationAccuracy,
} from '../src/index.js';
import { gauss, kfoldIndices, referenceFolds, referenceFoldsOn, rng } from './reference.js';

/** Scores of a noisy verifier with some values placed exactly on grid thresholds (ties in the comparison). */
function fixture(n: number, seed: number, metric: 'l2' | 'cosine') {
  const r = rng(seed);
  const same = Array.from({ length: n }, () => r() < 0.5);
  const scores = new Float32Array(n);
  // float32-exact values that are also grid points: l2 grid i·0.01 contains 0.5, 1, 1.5, 2, 2.5, 3 (i·0.01 for
  // i = 50·k is exact in binary only for these), the cosine grid 1 − i·0.005 contains 0.75, 0.5, 0.25, 0, −0.25, −0.5.
  const onGrid = metric === 'l2' ? [0.5, 1, 1.5, 2, 2.5, 3] : [0.75, 0.5, 0.25, 0, -0.25, -0.5];
  for (let i = 0; i < n; i++) {
    if (r() < 0.15) scores[i] = onGrid[Math.floor(r() * onGrid.length)]!;
    else {
      const cos = Math.max(-1, Math.min(1, (same[i] ? 0.45 : 0.05) + 0.25 * gauss(r)));
      scores[i] = metric === 'l2' ? 2 - 2 * cos : cos;
    }
  }
  return { scores, same };
}

describe('kFoldRanges (sklearn KFold, shuffle=False)', () => {
  it('makes contiguous folds, the first n % k one larger', () => {
    expect(kFoldRanges(23, 10)).toEqual(kfoldIndices(23, 10).map((f) => [f[0], f[f.length - 1]! + 1]));
    expect(kFoldRanges(23, 10).map(([s, e]) => e - s)).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 2, 2]);
    expect(kFoldRanges(6000, 10).every(([s, e]) => e - s === 600)).toBe(true);
    expect(() => kFoldRanges(9, 10)).toThrow(/need at least 10 pairs/);
  });
});

describe('insightface threshold grids', () => {
  it('are arange(0, 4, 0.01) and its cosine image 1 − d/2, in the same order', () => {
    const l2 = insightfaceL2Thresholds();
    expect(l2.length).toBe(400);
    for (let i = 0; i < 400; i++) expect(l2[i]).toBe(i * 0.01);
    expect(l2[399]).toBeCloseTo(3.99, 12);
    const cos = insightfaceCosineThresholds();
    expect(cos[0]).toBe(1);
    expect(cos[399]).toBeCloseTo(-0.995, 12);
  });
});

describe('verificationAccuracy against a float64 loop reference', () => {
  for (const metric of ['l2', 'cosine'] as const) {
    for (const [n, folds] of [[1003, 10], [257, 10], [41, 7]] as const) {
      it(`${metric}, n=${n}, ${folds} folds (uneven), ties on grid thresholds`, () => {
        const { scores, same } = fixture(n, n * 7 + folds, metric);
        const grid = metric === 'l2' ? insightfaceL2Thresholds() : insightfaceCosineThresholds();
        const got = verificationAccuracy(scores, same, { metric, folds });
        const ref = referenceFolds(scores, same, grid, folds, metric);
        expect(got.folds).toHaveLength(folds);
        let start = 0;
        got.folds.forEach((f, i) => {
          expect(f.threshold).toBe(ref[i]!.threshold);
          expect(f.trainAccuracy).toBeCloseTo(ref[i]!.trainAccuracy, 14);
          expect(f.testAccuracy).toBeCloseTo(ref[i]!.testAccuracy, 14);
          expect(f.testRange).toEqual([start, start + ref[i]!.size]);
          start += ref[i]!.size;
        });
        const accs = ref.map((r) => r.testAccuracy);
        const mean = accs.reduce((a, b) => a + b) / folds;
        expect(got.accuracy).toBeCloseTo(mean, 14);
        // numpy.std: population (ddof = 0).
        expect(got.std).toBeCloseTo(Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / folds), 14);
        expect(got.accuracy).toBeGreaterThan(0.6);
      });
    }
  }

  for (const metric of ['l2', 'cosine'] as const) {
    it(`${metric}: folds from a fold column (interleaved, arbitrary ids) are the test folds`, () => {
      const n = 257;
      const { scores, same } = fixture(n, 99, metric);
      const r = rng(3);
      const idsUsed = [11, -1, 7, 2];
      const foldIds = Array.from({ length: n }, () => idsUsed[Math.floor(r() * idsUsed.length)]!);
      const sortedIds = [...idsUsed].sort((a, b) => a - b);
      const tests = sortedIds.map((id) => foldIds.flatMap((f, i) => (f === id ? [i] : [])));
      const grid = metric === 'l2' ? insightfaceL2Thresholds() : insightfaceCosineThresholds();
      const got = verificationAccuracy(scores, same, { metric, foldIds, folds: 10 });
      const ref = referenceFoldsOn(scores, same, grid, tests, metric);
      expect([got.foldSource, got.foldCount]).toEqual(['file', 4]);
      got.folds.forEach((f, i) => {
        expect(f.foldId).toBe(sortedIds[i]);
        expect(f.testPairs).toBe(tests[i]!.length);
        expect(f.testRange).toBeUndefined();
        expect(f.threshold).toBe(ref[i]!.threshold);
        expect(f.trainAccuracy).toBeCloseTo(ref[i]!.trainAccuracy, 14);
        expect(f.testAccuracy).toBeCloseTo(ref[i]!.testAccuracy, 14);
      });
      expect(got.accuracy).toBeCloseTo(ref.reduce((a, f) => a + f.testAccuracy, 0) / 4, 14);
      // without the column: contiguous folds, as insightface
      const plain = verificationAccuracy(scores, same, { metric });
      expect([plain.foldSource, plain.foldCount, plain.folds[0]!.testRange]).toEqual(['contiguous', 10, [0, 26]]);
    });
  }

  it("fold column on four pairs, worked by hand: each fold's threshold comes from the other fold", () => {
    // l2, thresholds {0.5, 1.5}, same iff score < t. Pairs (score, same, fold): (0.2 T 4) (1.0 T 9) (1.0 F 4) (2.0 F 9).
    // Fold 4 = {0, 2} is tested with the threshold best on {1, 3}: t=0.5 gets 1 of 2 (pair 1 called different),
    //   t=1.5 gets 2 of 2 → 1.5; on {0, 2} at 1.5 pair 2 (1.0, different) is called same → 1/2.
    // Fold 9 = {1, 3}, trained on {0, 2}: t=0.5 gets 2 of 2, t=1.5 1 of 2 → 0.5; on {1, 3} pair 1 is missed → 1/2.
    // Contiguous halves {0, 1} / {2, 3} would pick 0.5 then 1.5: the file's folds are really the ones used.
    const scores = Float64Array.from([0.2, 1.0, 1.0, 2.0]);
    const same = [true, true, false, false];
    const thresholds = Float64Array.from([0.5, 1.5]);
    const got = verificationAccuracy(scores, same, { metric: 'l2', thresholds, foldIds: [4, 9, 4, 9] });
    expect(got.folds.map((f) => [f.foldId, f.threshold, f.trainAccuracy, f.testAccuracy, f.testPairs])).toEqual([
      [4, 1.5, 1, 0.5, 2],
      [9, 0.5, 1, 0.5, 2],
    ]);
    expect([got.accuracy, got.std]).toEqual([0.5, 0]);
    const contiguous = verificationAccuracy(scores, same, { metric: 'l2', thresholds, folds: 2 });
    expect(contiguous.folds.map((f) => f.threshold)).toEqual([0.5, 1.5]);
    // folds are ordered by id, not by first appearance
    expect(verificationAccuracy(scores, same, { metric: 'l2', thresholds, foldIds: [9, 4, 9, 4] }).folds.map((f) => [f.foldId, f.threshold])).toEqual([
      [4, 0.5],
      [9, 1.5],
    ]);
  });

  it('rejects fold ids that do not fit: wrong count, non-integers, a single fold', () => {
    const scores = new Float64Array(4);
    const same = [true, false, true, false];
    expect(() => verificationAccuracy(scores, same, { metric: 'l2', foldIds: [1, 2, 1] })).toThrow(/4 pairs but 3 fold ids/);
    expect(() => verificationAccuracy(scores, same, { metric: 'l2', foldIds: [1, 2, 1.5, 2] })).toThrow(/fold id of pair 2 is 1\.5; fold ids must be integers/);
    expect(() => verificationAccuracy(scores, same, { metric: 'l2', foldIds: [3, 3, 3, 3] })).toThrow(/all 4 pairs are in fold 3; the fold column needs at least 2 folds/);
  });

  it('a score equal to a threshold is not "same" under either strict comparison', () => {
    // One pair per threshold candidate; scores sit exactly on thresholds 0.5 and 1.
    const scores = Float32Array.from([0.5, 0.5, 1, 1, 0.25, 2, 0.5, 1, 0.75, 3]);
    const same = [true, true, false, false, true, false, true, false, true, false];
    const thresholds = Float64Array.from([0.5, 1]);
    for (const metric of ['l2', 'cosine'] as const) {
      const got = verificationAccuracy(scores, same, { metric, thresholds, folds: 2 });
      const ref = referenceFolds(scores, same, thresholds, 2, metric);
      got.folds.forEach((f, i) => {
        expect(f.threshold).toBe(ref[i]!.threshold);
        expect(f.testAccuracy).toBe(ref[i]!.testAccuracy);
      });
    }
    // l2 at threshold 1: same iff score < 1 → 0.5,0.5,0.25,0.5,0.75 same (all correct), 1,1,1 not same (correct), 2,3 not same.
    const all = verificationAccuracy(scores, same, { metric: 'l2', thresholds: Float64Array.from([1]), folds: 2 });
    expect(all.bestAccuracy).toBe(1);
  });

  it('among equally good thresholds the first one in grid order wins (numpy argmax)', () => {
    // Genuine pairs far apart from impostors: every threshold in (0.3, 1.2] separates them perfectly.
    const n = 40;
    const same = Array.from({ length: n }, (_, i) => i % 2 === 0);
    const scores = Float32Array.from(same, (s, i) => (s ? 0.1 + (i % 7) * 0.02 : 1.2 + (i % 5) * 0.1));
    const l2 = verificationAccuracy(scores, same, { metric: 'l2' });
    // The first grid point strictly above the largest genuine distance (compared as float64, like numpy's
    // float32 dist < float64 threshold): fround(0.22) = 0.21999999880… so that point is 0.22 itself.
    const maxGenuine = Math.max(...scores.filter((_, i) => same[i]));
    const first = insightfaceL2Thresholds().find((t) => t > maxGenuine)!;
    expect(first).toBe(22 * 0.01);
    for (const f of l2.folds) expect(f.threshold).toBe(first);
    expect(l2.accuracy).toBe(1);
    expect(l2.std).toBe(0);
    expect(l2.bestThresholdCosine).toBeCloseTo(1 - first / 2, 12);
    // Reversed grid: now the first perfect threshold is the largest one, 1.2 (not < 1.2 ⇒ 1.2 itself is impostor-safe).
    const reversed = Float64Array.from(insightfaceL2Thresholds()).reverse();
    const r = verificationAccuracy(scores, same, { metric: 'l2', thresholds: reversed });
    for (const f of r.folds) expect(f.threshold).toBeCloseTo(1.2, 12);
  });

  it('cosine and l2 on the same unit-vector pairs reach the same fold accuracies', () => {
    const r = rng(5);
    const n = 600;
    const same = Array.from({ length: n }, () => r() < 0.5);
    // Cosines away from grid points (±1e-4) so rounding of 2 − 2cos cannot move a pair across a threshold.
    const cos = Float64Array.from(same, (s) => {
      const c = Math.max(-0.99, Math.min(0.99, (s ? 0.5 : 0.1) + 0.3 * gauss(r)));
      return Math.round(c / 0.005) * 0.005 + 0.0021;
    });
    const a = verificationAccuracy(Float32Array.from(cos), same, { metric: 'cosine' });
    const b = verificationAccuracy(Float32Array.from(cos, (c) => 2 - 2 * c), same, { metric: 'l2' });
    expect(a.folds.map((f) => f.testAccuracy)).toEqual(b.folds.map((f) => f.testAccuracy));
    expect(a.bestThresholdCosine).toBeCloseTo(b.bestThresholdCosine, 9);
  });

  it('rejects mismatched lengths, NaN scores, too few pairs and unknown metrics with clear messages', () => {
    expect(() => verificationAccuracy(new Float32Array(20), [true], { metric: 'l2' })).toThrow(/20 scores but 1 issame/);
    expect(() => verificationAccuracy(Float32Array.from([NaN, ...new Array(19).fill(0)]), new Array(20).fill(true), { metric: 'l2' })).toThrow(/non-finite/);
    expect(() => verificationAccuracy(new Float32Array(5), new Array(5).fill(true), { metric: 'l2' })).toThrow(/need at least 10 pairs/);
    expect(() => verificationAccuracy(new Float32Array(20), new Array(20).fill(true), { metric: 'dot' as 'l2' })).toThrow(/use 'cosine' or 'l2'/);
  });
});
