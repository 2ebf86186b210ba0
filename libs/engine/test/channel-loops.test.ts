// The BN kernels' per-channel loops (8 channels in registers over cached row blocks when C % 8 = 0, the plain loop
// otherwise) against a float64 loop written the obvious way.
import { describe, expect, it } from 'vitest';
import { channelAffine2, channelPreluGrad, channelSums } from '../src/kernels/channel-loops.js';

function random(n: number, seed: number, offset = 0): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4 + offset * ((i % 7) - 3);
  });
}

// C = 6 and 12: the plain loop; 8…136: the blocked one, with 16,384/C rows per block, so these row counts end in a
// partial block
const CASES: Array<[C: number, rows: number]> = [[6, 50], [12, 3000], [8, 5000], [16, 2100], [40, 1000], [136, 300], [256, 200]];

describe('BN channel loops', () => {
  for (const [C, rows] of CASES) {
    it(`C = ${C}, ${rows} rows: sums, the two-input affine map and the PReLU backward match a float64 loop`, () => {
      const a = random(rows * C, C, 1);
      const b = random(rows * C, C + 1);
      const sum = new Float64Array(C).fill(0.5); // accumulates onto what is there
      const sumAB = new Float64Array(C);
      channelSums(a, b, C, sum, sumAB);
      const refSum = new Float64Array(C).fill(0.5);
      const refAB = new Float64Array(C);
      for (let i = 0; i < a.length; i++) {
        refSum[i % C]! += a[i]!;
        refAB[i % C]! += a[i]! * b[i]!;
      }
      for (let c = 0; c < C; c++) {
        expect(Math.abs(sum[c]! - refSum[c]!)).toBeLessThan(1e-9 * (1 + Math.abs(refSum[c]!)));
        expect(Math.abs(sumAB[c]! - refAB[c]!)).toBeLessThan(1e-9 * (1 + Math.abs(refAB[c]!)));
      }
      const ka = random(C, 1), kb = random(C, 2), k0 = random(C, 3);
      const out = new Float32Array(a.length);
      channelAffine2(a, ka, b, kb, k0, C, out);
      const ref = Float32Array.from(a, (v, i) => v * ka[i % C]! + b[i]! * kb[i % C]! + k0[i % C]!);
      expect(out).toEqual(ref);

      // PReLU backward; x = a has both signs and exact zeros (x ≤ 0 takes the α branch, as tfjs's Prelu does)
      a[0] = 0;
      const dx = new Float32Array(a.length);
      const dAlpha = new Float64Array(C);
      channelPreluGrad(a, b, ka, C, dx, dAlpha);
      const refDx = Float32Array.from(a, (v, i) => (v > 0 ? b[i]! : ka[i % C]! * b[i]!));
      const refDAlpha = new Float64Array(C);
      a.forEach((v, i) => {
        if (v <= 0) refDAlpha[i % C]! += b[i]! * v;
      });
      expect(dx).toEqual(refDx);
      for (let c = 0; c < C; c++) expect(Math.abs(dAlpha[c]! - refDAlpha[c]!)).toBeLessThan(1e-9 * (1 + Math.abs(refDAlpha[c]!)));
    });
  }
});
