import { describe, expect, it } from 'vitest';
import { areaUnderErc, errorVersusReject, pairQuality, thresholdAtFmr } from '../src/index.js';

function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/**
 * Independent float64 reference: for each u, keep the (N − round(uN)) highest-quality pairs (ties: the lower pair
 * index is discarded first); the threshold is the smallest impostor score t with #(impostor > t) ≤ ⌊fmr·I⌋ (over all
 * pairs, or the kept ones); FNMR = #(genuine kept with score ≤ t) / #(genuine kept).
 */
function reference(scores: number[], same: boolean[], q: number[], fmr: number, rejects: number[], recompute: boolean) {
  const threshold = (imp: number[]) => {
    const allowed = Math.floor(fmr * imp.length + 1e-9);
    const candidates = [...new Set(imp)].sort((a, b) => a - b);
    for (const t of candidates) if (imp.filter((s) => s > t).length <= allowed) return t;
    return -Infinity;
  };
  const full = threshold(scores.filter((_, i) => !same[i]));
  const idx = scores.map((_, i) => i);
  return rejects.map((u) => {
    const drop = Math.round(u * scores.length);
    const sorted = [...idx].sort((a, b) => (q[a]! === q[b]! ? a - b : q[a]! - q[b]!));
    const kept = sorted.slice(drop);
    const t = recompute ? threshold(kept.filter((i) => !same[i]).map((i) => scores[i]!)) : full;
    const gen = kept.filter((i) => same[i]);
    return gen.length ? gen.filter((i) => !(scores[i]! > t)).length / gen.length : null;
  });
}

function makeSet(n: number, seed: number) {
  const r = lcg(seed);
  const same: boolean[] = [];
  const scores: number[] = [];
  const q: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = i % 3 === 0;
    const quality = r();
    same.push(s);
    q.push(Math.round(quality * 50) / 50); // coarse: many ties
    // low-quality genuine pairs score lower: a useful measure exists
    scores.push(Math.round((s ? 0.2 + 0.6 * quality + 0.3 * r() : 0.4 * r()) * 1000) / 1000);
  }
  return { same, scores, q };
}

describe('errorVersusReject', () => {
  it('matches the float64 reference for fixed and recomputed thresholds, with tied scores and qualities', () => {
    const { same, scores, q } = makeSet(1500, 3);
    const rejects = [0, 0.05, 0.1, 0.3, 0.5, 0.8, 0.95];
    for (const mode of ['fixed', 'recompute'] as const) {
      const res = errorVersusReject(scores, same, { q }, { fmrs: [1e-2, 1e-1], rejectFractions: rejects, threshold: mode, randomRepeats: 0 });
      for (const fmr of [1e-2, 1e-1]) {
        const curve = res.curves.find((c) => c.measure === 'q' && c.targetFmr === fmr)!;
        const want = reference(scores, same, q, fmr, rejects, mode === 'recompute');
        expect(curve.points.map((p) => p.fnmr)).toEqual(want.map((w) => (w === null ? null : expect.closeTo(w, 12))));
        // trapezoid by hand
        let area = 0;
        for (let i = 1; i < rejects.length; i++) area += ((rejects[i]! - rejects[i - 1]!) * (want[i]! + want[i - 1]!)) / 2;
        expect(curve.auc).toBeCloseTo(area, 12);
      }
    }
  });

  it('a quality measure that predicts errors lies below random discard, which stays near the full-set FNMR', () => {
    const { same, scores, q } = makeSet(3000, 11);
    const res = errorVersusReject(scores, same, { q }, { fmrs: [1e-2], randomRepeats: 20 });
    const good = res.curves.find((c) => c.measure === 'q')!;
    const random = res.curves.find((c) => c.measure === 'random')!;
    expect(good.points[0]!.fnmr).toBeCloseTo(random.points[0]!.fnmr!, 12); // u = 0: the same set
    expect(good.auc!).toBeLessThan(random.auc! * 0.7);
    const full = random.points[0]!.fnmr!;
    for (const p of random.points.slice(0, 15)) expect(Math.abs(p.fnmr! - full)).toBeLessThan(0.05);
    expect(res.thresholds[0]).toBe(thresholdAtFmr(scores.filter((_, i) => !same[i]), 1e-2));
  });

  it('the FMR threshold never lets more than ⌊fmr·I⌋ impostors through, ties included', () => {
    const imp = [0.9, 0.8, 0.8, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
    expect(thresholdAtFmr(imp, 0.1)).toBe(0.8); // 1 allowed: 0.9 > t only
    expect(thresholdAtFmr(imp, 0.2)).toBe(0.8); // 2 allowed, but the tie at 0.8 would give 4: only 0.9 passes
    expect(thresholdAtFmr(imp, 0.4)).toBe(0.5);
    expect(thresholdAtFmr(imp, 0.05)).toBe(0.9);
    const res = errorVersusReject([1, ...imp], [true, ...imp.map(() => false)], { q: [1, ...imp] }, { fmrs: [0.05], randomRepeats: 0 });
    expect(res.notes.join()).toMatch(/needs ≥ 20 impostor pairs/);
  });

  it('pairQuality is the min; areaUnderErc skips missing points; bad input is refused clearly', () => {
    expect(Array.from(pairQuality([1, 0.2, 3], [0.5, 0.7, 3]))).toEqual([0.5, 0.2, 3]);
    expect(areaUnderErc([{ reject: 0, fnmr: 0.2 }, { reject: 0.5, fnmr: null }, { reject: 1, fnmr: 0 }])).toBeCloseTo(0.1, 12);
    expect(() => errorVersusReject([0.1, 0.2], [true], { q: [1, 2] })).toThrow(/2 scores but 1 issame/);
    expect(() => errorVersusReject([0.1, 0.2], [true, false], { q: [1, NaN] })).toThrow(/measure "q" is NaN at pair 1/);
    expect(() => errorVersusReject([0.1, 0.2], [true, false], { q: [1] })).toThrow(/pairQuality/);
    expect(() => errorVersusReject([0.1, 0.2], [true, true], { q: [1, 2] })).toThrow(/0 impostor pairs/);
    expect(() => errorVersusReject([0.1, 0.2], [true, false], { q: [1, 2] }, { fmrs: [2] })).toThrow(/fmrs must be numbers in \(0, 1\)/);
    expect(() => errorVersusReject([0.1, 0.2], [true, false], { q: [1, 2] }, { rejectFractions: [0.5, 0.1] })).toThrow(/increasing/);
    expect(() => errorVersusReject([0.1, 0.2], [true, false], { random: [1, 2] })).toThrow(/built-in baseline/);
  });
});

describe('separationAuc', () => {
  it('is the fraction of (clean, degraded) pairs ranked right, ties ½', async () => {
    const { separationAuc } = await import('../src/index.js');
    const q = [0.9, 0.1, 0.5, 0.5, 0.3, 0.7];
    const low = [false, true, false, true, true, false];
    let wins = 0;
    for (let i = 0; i < q.length; i++) for (let j = 0; j < q.length; j++) if (!low[i] && low[j]) wins += q[i]! > q[j]! ? 1 : q[i] === q[j] ? 0.5 : 0;
    expect(separationAuc(q, low)).toBeCloseTo(wins / 9, 12);
    expect(() => separationAuc([1, 2], [true, true])).toThrow(/0 clean and 2 degraded/);
  });
});
