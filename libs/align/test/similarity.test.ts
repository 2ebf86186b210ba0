// The similarity fit against closed forms: exact recovery when the points are a similarity of the template, and
// the least-squares optimum otherwise, checked against an independent solve of the 4-parameter normal equations.
import { describe, expect, it } from 'vitest';
import { ARCFACE_TEMPLATE_112, applyAffine, arcfaceTemplate, estimateSimilarity, invertAffine, type Affine, type Point } from '../src/index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function similarity(scale: number, theta: number, tx: number, ty: number): Affine {
  const a = scale * Math.cos(theta), b = scale * Math.sin(theta);
  return [
    [a, -b, tx],
    [b, a, ty],
  ];
}

/** min Σ |(a x − b y + tx, b x + a y + ty) − (u, v)|² by its 4×4 normal equations, solved by Gaussian elimination. */
function normalEquationsFit(src: Point[], dst: Point[]): Affine {
  const A: number[][] = [];
  const y: number[] = [];
  src.forEach(([x, yy], i) => {
    A.push([x, -yy, 1, 0]);
    y.push(dst[i]![0]);
    A.push([yy, x, 0, 1]);
    y.push(dst[i]![1]);
  });
  const N = [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => A.reduce((s, row) => s + row[r]! * row[c]!, 0)));
  const rhs = [0, 1, 2, 3].map((r) => A.reduce((s, row, k) => s + row[r]! * y[k]!, 0));
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(N[r]![c]!) > Math.abs(N[p]![c]!)) p = r;
    [N[c], N[p]] = [N[p]!, N[c]!];
    [rhs[c], rhs[p]] = [rhs[p]!, rhs[c]!];
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = N[r]![c]! / N[c]![c]!;
      for (let k = c; k < 4; k++) N[r]![k]! -= f * N[c]![k]!;
      rhs[r]! -= f * rhs[c]!;
    }
  }
  const [a, b, tx, ty] = [0, 1, 2, 3].map((i) => rhs[i]! / N[i]![i]!) as [number, number, number, number];
  return [
    [a, -b, tx],
    [b, a, ty],
  ];
}

const sse = (m: Affine, src: Point[], dst: Point[]) => src.reduce((s, p, i) => {
  const [u, v] = applyAffine(m, p);
  return s + (u - dst[i]![0]) ** 2 + (v - dst[i]![1]) ** 2;
}, 0);

describe('arcfaceTemplate', () => {
  it('is insightface arcface_dst at 112 and follows estimate_norm for other sizes', () => {
    expect(arcfaceTemplate(112)).toEqual(ARCFACE_TEMPLATE_112.map((p) => [...p]));
    expect(ARCFACE_TEMPLATE_112[0]).toEqual([38.2946, 51.6963]);
    expect(ARCFACE_TEMPLATE_112[4]).toEqual([70.7299, 92.2041]);
    const t224 = arcfaceTemplate(224);
    t224.forEach((p, i) => {
      expect(p[0]).toBeCloseTo(ARCFACE_TEMPLATE_112[i]![0] * 2, 10);
      expect(p[1]).toBeCloseTo(ARCFACE_TEMPLATE_112[i]![1] * 2, 10);
    });
    // insightface: image_size % 128 == 0 → ratio = size/128, diff_x = 8·ratio
    const t256 = arcfaceTemplate(256);
    t256.forEach((p, i) => {
      expect(p[0]).toBeCloseTo(ARCFACE_TEMPLATE_112[i]![0] * 2 + 16, 10);
      expect(p[1]).toBeCloseTo(ARCFACE_TEMPLATE_112[i]![1] * 2, 10);
    });
    expect(arcfaceTemplate(96)[0][0]).toBeCloseTo(38.2946 * (96 / 112), 10);
    expect(() => arcfaceTemplate(4)).toThrow(/crop size 4/);
  });
});

describe('estimateSimilarity', () => {
  it('recovers a similarity exactly and maps the points onto the template', () => {
    const r = rng(1);
    for (let trial = 0; trial < 20; trial++) {
      // photo points = inverse of a known photo→crop similarity applied to the template
      const M = similarity(0.2 + r() * 3, (r() - 0.5) * 2 * Math.PI, (r() - 0.5) * 400, (r() - 0.5) * 400);
      const inv = invertAffine(M);
      const photo = ARCFACE_TEMPLATE_112.map((p) => applyAffine(inv, p as Point));
      const fit = estimateSimilarity(photo, ARCFACE_TEMPLATE_112);
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(fit.matrix[i]![j]).toBeCloseTo(M[i]![j]!, 8);
      expect(fit.rms).toBeLessThan(1e-9);
      photo.forEach((p, i) => {
        const [u, v] = applyAffine(fit.matrix, p);
        expect(u).toBeCloseTo(ARCFACE_TEMPLATE_112[i]![0], 9);
        expect(v).toBeCloseTo(ARCFACE_TEMPLATE_112[i]![1], 9);
      });
    }
  });

  it('is the least-squares optimum for noisy points (independent normal-equation solve)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const src: Point[] = Array.from({ length: 5 }, () => [r() * 300, r() * 300]);
      const dst: Point[] = Array.from({ length: 5 }, () => [r() * 112, r() * 112]);
      const fit = estimateSimilarity(src, dst);
      const ref = normalEquationsFit(src, dst);
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(fit.matrix[i]![j]).toBeCloseTo(ref[i]![j]!, 7);
      expect(fit.rms).toBeCloseTo(Math.sqrt(sse(ref, src, dst) / 5), 7);
      // and no nearby similarity does better
      for (let k = 0; k < 10; k++) {
        const d = () => (r() - 0.5) * 1e-3;
        const p = similarity(fit.scale + d(), fit.rotation + d(), fit.matrix[0][2] + d(), fit.matrix[1][2] + d());
        expect(sse(p, src, dst)).toBeGreaterThanOrEqual(sse(fit.matrix, src, dst) - 1e-9);
      }
    }
  });

  it('never returns a reflection, and refuses degenerate input', () => {
    // a mirrored template: the best proper similarity is not an exact fit
    const mirrored: Point[] = ARCFACE_TEMPLATE_112.map(([x, y]) => [112 - x, y]);
    const fit = estimateSimilarity(mirrored, ARCFACE_TEMPLATE_112);
    const [[a, b], [c, d]] = fit.matrix;
    expect(a * d - b * c).toBeGreaterThan(0);
    expect(fit.rms).toBeGreaterThan(1);
    expect(() => estimateSimilarity([[1, 1], [1, 1]], [[0, 0], [1, 1]])).toThrow(/coincide/);
    expect(() => estimateSimilarity([[1, 1]], [[0, 0], [1, 1]])).toThrow(/equally long/);
  });

  it('invertAffine undoes applyAffine', () => {
    const m: Affine = [
      [1.3, 0.4, -7],
      [-0.2, 0.9, 12],
    ];
    const inv = invertAffine(m);
    const p: Point = [17.5, -3.25];
    const q = applyAffine(inv, applyAffine(m, p));
    expect(q[0]).toBeCloseTo(p[0], 12);
    expect(q[1]).toBeCloseTo(p[1], 12);
  });
});
