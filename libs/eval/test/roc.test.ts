import { describe, expect, it } from 'vitest';
import { areaUnderRoc, equalErrorRate, rocCurve, tarAtFar } from '../src/index.js';
import { gauss, rng } from './reference.js';

// A hand-worked case: 5 genuine and 10 impostor pairs.
const genuine = [0.95, 0.9, 0.85, 0.6, 0.4];
const impostor = [0.8, 0.5, 0.45, 0.3, 0.2, 0.1, 0.05, 0, -0.1, -0.2];
const scores = [...genuine, ...impostor];
const same = scores.map((_, i) => i < genuine.length);

describe('rocCurve', () => {
  it('walks the hand case point by point', () => {
    const roc = rocCurve(scores, same);
    // Sorted: .95G .9G .85G .8I .6G .5I .45I .4G .3I .2I .1I .05I 0I -.1I -.2I
    expect(Array.from(roc.tar.slice(0, 9))).toEqual([0, 0.2, 0.4, 0.6, 0.6, 0.8, 0.8, 0.8, 1]);
    expect(Array.from(roc.far.slice(0, 9)).map((f) => Math.round(f * 10))).toEqual([0, 0, 0, 0, 1, 1, 2, 3, 3]);
    expect(roc.thresholds[0]).toBe(Infinity);
    expect(roc.thresholds[4]).toBe(0.8);
    expect(roc.far[roc.far.length - 1]).toBe(1);
    expect(roc.genuine).toBe(5);
    expect(roc.impostor).toBe(10);
  });

  it('matches brute-force counting at every distinct threshold, with tied scores', () => {
    const r = rng(11);
    const n = 400;
    const s = Float32Array.from({ length: n }, () => Math.round(gauss(r) * 8) / 8); // many ties
    const lab = Array.from(s, (v) => r() < 1 / (1 + Math.exp(-2 * v)));
    const roc = rocCurve(s, lab);
    const G = lab.filter(Boolean).length;
    expect(roc.far.length).toBe(new Set(s).size + 1);
    for (let i = 1; i < roc.far.length; i++) {
      const t = roc.thresholds[i]!;
      let tp = 0;
      let fp = 0;
      s.forEach((v, k) => {
        if (v >= t) lab[k] ? tp++ : fp++;
      });
      expect(roc.tar[i]).toBeCloseTo(tp / G, 14);
      expect(roc.far[i]).toBeCloseTo(fp / (n - G), 14);
    }
    // Distances: accept when small. Same curve as the negated scores.
    const asDist = rocCurve(Float32Array.from(s, (v) => -v), lab, false);
    expect(Array.from(asDist.tar)).toEqual(Array.from(roc.tar));
    expect(Array.from(asDist.far)).toEqual(Array.from(roc.far));
  });

  it('needs both classes', () => {
    expect(() => rocCurve([0.1, 0.2], [true, true])).toThrow(/2 genuine and 0 impostor/);
  });
});

describe('areaUnderRoc', () => {
  it('is the Mann–Whitney probability (ties count 1/2)', () => {
    // Hand case: genuine beat 10, 10, 10, 9, 7 impostors → 46/50.
    expect(areaUnderRoc(rocCurve(scores, same))).toBeCloseTo(0.92, 14);
    const r = rng(3);
    const s = Array.from({ length: 300 }, () => Math.round(gauss(r) * 5) / 5);
    const lab = s.map((v) => r() < 1 / (1 + Math.exp(-3 * v)));
    let u = 0;
    let pairs = 0;
    s.forEach((a, i) => {
      if (!lab[i]) return;
      s.forEach((b, j) => {
        if (lab[j]) return;
        pairs++;
        u += a > b ? 1 : a === b ? 0.5 : 0;
      });
    });
    expect(areaUnderRoc(rocCurve(s, lab))).toBeCloseTo(u / pairs, 12);
  });
});

describe('equalErrorRate', () => {
  it('finds FAR = FRR on the hand case', () => {
    // At threshold 0.5: false accepts {0.8, 0.5} = 2/10, false rejects {0.4} = 1/5.
    const e = equalErrorRate(rocCurve(scores, same));
    expect(e.eer).toBeCloseTo(0.2, 14);
    expect(e.threshold).toBe(0.5);
  });

  it('interpolates between the bracketing points', () => {
    // 2 genuine (0.9, 0.2), 2 impostor (0.5, 0.1): points (0,0) (0,.5) (.5,.5) (.5,1) (1,1).
    // FAR − FRR: −1, −.5, 0 → crossing exactly at (.5, .5).
    expect(equalErrorRate(rocCurve([0.9, 0.2, 0.5, 0.1], [true, true, false, false])).eer).toBeCloseTo(0.5, 14);
    // 1 genuine (0.5), 4 impostors (0.9, 0.4, 0.3, 0.2): (0,0) (.25,0) (.25,1) … FAR−FRR: −1, −.75, .25 → EER = .25.
    expect(equalErrorRate(rocCurve([0.5, 0.9, 0.4, 0.3, 0.2], [true, false, false, false, false])).eer).toBeCloseTo(0.25, 14);
  });
});

describe('tarAtFar', () => {
  const roc = rocCurve(scores, same);

  it('at-most: the best TAR whose FAR does not exceed the target (hand case)', () => {
    const [a, b, c] = tarAtFar(roc, [0.1, 0.25, 0.01]);
    // FAR ≤ 0.1: threshold 0.6 accepts .95 .9 .85 .6 (4/5) and the impostor .8 (1/10).
    expect(a).toMatchObject({ far: 0.1, tar: 0.8, threshold: 0.6, achievedFar: 0.1 });
    expect(a!.note).toMatch(/only 1 false accept allowed \(10 impostor pairs\)/);
    // FAR ≤ 0.25: threshold 0.5 (FAR .2); 0.45 would give .3.
    expect(b).toMatchObject({ tar: 0.8, threshold: 0.5, achievedFar: 0.2 });
    // 1e-2 of 10 impostors is less than one false accept: not measurable.
    expect(c).toMatchObject({ far: 0.01, tar: null, threshold: null });
    expect(c!.note).toBe('needs ≥ 100 impostor pairs, have 10');
  });

  it("nearest: insightface's IJB rule (sklearn drop_intermediate, nearest FAR, ties to larger TAR)", () => {
    // sklearn keeps (.1,.8) (.3,.8) (.3,1) but drops (.2,.8) (middle of a horizontal run). Nearest to .25:
    // (.3,.8) and (.3,1) tie at distance .05 → the larger TAR.
    const [a] = tarAtFar(roc, [0.25], { mode: 'nearest' });
    expect(a).toMatchObject({ tar: 1, threshold: 0.4 });
    expect(a!.achievedFar).toBeCloseTo(0.3, 14);
    const [b] = tarAtFar(roc, [0.1], { mode: 'nearest' });
    expect(b).toMatchObject({ tar: 0.8, threshold: 0.6 });
  });

  it('rejects FARs outside (0, 1]', () => {
    expect(() => tarAtFar(roc, [0])).toThrow(/FAR 0 is invalid/);
    expect(() => tarAtFar(roc, [0.1], { mode: 'closest' as 'nearest' })).toThrow(/mode "closest"/);
  });
});
