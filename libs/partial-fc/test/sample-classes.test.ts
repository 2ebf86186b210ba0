import { describe, expect, it } from 'vitest';
import { sampleClasses } from '../src/index.js';

describe('sampleClasses', () => {
  it('always contains every positive, is sorted and unique, has int(r·C) classes, and remaps labels by position', () => {
    for (let trial = 0; trial < 200; trial++) {
      const C = 50 + trial;
      const labels = Int32Array.from({ length: 16 }, (_, i) => (i * 37 + trial * 11) % C);
      const r = [0.1, 0.3, 0.5, 0.77][trial % 4]!;
      const { indices, remapped } = sampleClasses(labels, C, r, trial);
      const positives = new Set(labels);
      expect(indices.length).toBe(Math.max(Math.floor(r * C), positives.size));
      for (let i = 1; i < indices.length; i++) expect(indices[i]!).toBeGreaterThan(indices[i - 1]!);
      for (const p of positives) expect(indices.includes(p)).toBe(true);
      labels.forEach((y, i) => expect(indices[remapped[i]!]).toBe(y));
    }
  });

  it('uses only the positives when they exceed the budget; rate 1 samples every class', () => {
    const labels = Int32Array.from([9, 3, 3, 7, 1, 0]);
    const few = sampleClasses(labels, 20, 0.1, 1); // budget 2 < 5 positives
    expect(Array.from(few.indices)).toEqual([0, 1, 3, 7, 9]);
    expect(Array.from(few.remapped)).toEqual([4, 2, 2, 3, 1, 0]);
    const all = sampleClasses(labels, 20, 1, 1);
    expect(Array.from(all.indices)).toEqual([...Array(20).keys()]);
    expect(Array.from(all.remapped)).toEqual(Array.from(labels));
  });

  it('is reproducible with a seed', () => {
    const labels = Int32Array.from([4, 8]);
    expect(sampleClasses(labels, 1000, 0.1, 3).indices).toEqual(sampleClasses(labels, 1000, 0.1, 3).indices);
    expect(sampleClasses(labels, 1000, 0.1, 3).indices).not.toEqual(sampleClasses(labels, 1000, 0.1, 4).indices);
  });

  it('negatives are uniform: inclusion counts pass a chi-square test, and so do pair counts', () => {
    // C = 20, positives {3, 7}, r = 0.5 → 8 of the 18 negatives per draw
    const C = 20;
    const labels = Int32Array.from([3, 7, 7]);
    const T = 4000;
    const counts = new Float64Array(C);
    const pairAB = [0, 0, 0, 0]; // joint inclusion of negatives 0 and 19: (no,no), (no,yes), (yes,no), (yes,yes)
    for (let t = 0; t < T; t++) {
      const { indices } = sampleClasses(labels, C, 0.5, 1000 + t);
      expect(indices.length).toBe(10);
      for (const c of indices) counts[c]!++;
      const a = indices.includes(0) ? 1 : 0;
      const b = indices.includes(19) ? 1 : 0;
      pairAB[a * 2 + b]!++;
    }
    expect(counts[3]).toBe(T);
    expect(counts[7]).toBe(T);
    const expected = (T * 8) / 18;
    let chi2 = 0;
    for (let c = 0; c < C; c++) if (c !== 3 && c !== 7) chi2 += (counts[c]! - expected) ** 2 / expected;
    // 17 degrees of freedom (counts sum to a constant): 99.9th percentile is 40.79. A biased sampler
    // (e.g. favouring low indices) lands far above it.
    expect(chi2).toBeLessThan(40.79);
    // pairs: P(both) = (8/18)(7/17) for a uniform subset
    const pBoth = (8 / 18) * (7 / 17);
    const pOne = 8 / 18 - pBoth;
    const pNone = 1 - 2 * pOne - pBoth;
    const e = [pNone, pOne, pOne, pBoth].map((p) => p * T);
    const chiPair = pairAB.reduce((acc, o, i) => acc + (o - e[i]!) ** 2 / e[i]!, 0);
    expect(chiPair).toBeLessThan(16.27); // 3 dof, 99.9th percentile
  });

  it('rejects bad input with a message naming it', () => {
    const labels = Int32Array.from([1, 2]);
    expect(() => sampleClasses(labels, 10, 0)).toThrow(/sampleRate=0 must be in \(0, 1\]/);
    expect(() => sampleClasses(labels, 10, 1.5)).toThrow(/sampleRate=1.5/);
    expect(() => sampleClasses(labels, 10, NaN)).toThrow(/sampleRate=NaN/);
    expect(() => sampleClasses(Int32Array.from([10]), 10, 0.5)).toThrow(/labels\[0\]=10 is outside \[0, 10\)/);
    expect(() => sampleClasses(labels, 0, 0.5)).toThrow(/numClasses=0 must be a positive integer/);
    expect(() => sampleClasses([1, 2] as unknown as Int32Array, 10, 0.5)).toThrow(/Int32Array/);
  });
});
