import { describe, expect, it } from 'vitest';
import { classPrototypes, recognizabilityIndex, uiCenter } from '../src/index.js';

/** Float64 reference written straight from the documented formula. */
function reference(v: number[][], labels: number[] | undefined, w: number[][], ui: number[], k = 10, s = 1) {
  const unit = (x: number[]) => {
    const n = Math.hypot(...x);
    return x.map((a) => a / n);
  };
  const dot = (a: number[], b: number[]) => a.reduce((t, x, i) => t + x * b[i]!, 0);
  const u = unit(ui);
  return v.map((row, i) => {
    const x = unit(row);
    const cos = w.map((p) => dot(x, unit(p)));
    const pos = labels ? labels[i]! : cos.indexOf(Math.max(...cos));
    const cn = Math.max(...cos.filter((_, j) => j !== pos));
    const ut = Math.min(1, Math.max(0, (1 - dot(x, u)) / s));
    return ut / (1 + Math.exp(-k * (cos[pos]! - cn)));
  });
}

// D = 5: prototypes on e0, e1, e2; the UI centre on e3; e4 takes up the slack so rows stay unit length
const W = [
  [1, 0, 0, 0, 0],
  [0, 1, 0, 0, 0],
  [0, 0, 1, 0, 0],
];
const UI = [0, 0, 0, 1, 0];
const row = (cy: number, cn: number, cu: number) => [cy, cn, 0, cu, Math.sqrt(1 - cy * cy - cn * cn - cu * cu)];
const flat = (rows: number[][]) => Float32Array.from(rows.flat());

describe('recognizabilityIndex', () => {
  it('criterion (i): with the class cosines fixed, RI falls as the embedding nears the UI centre', () => {
    const rows = [0, 0.2, 0.4, 0.6].map((cu) => row(0.6, 0.1, cu));
    const ri = recognizabilityIndex(flat(rows), [0, 0, 0, 0], flat(W), UI);
    for (let i = 1; i < rows.length; i++) {
      expect(ri.index[i]!).toBeLessThan(ri.index[i - 1]!);
      expect(ri.classTerm[i]!).toBeCloseTo(ri.classTerm[0]!, 6);
    }
    expect(Array.from(ri.cosUi)).toEqual([0, 0.2, 0.4, 0.6].map((c) => expect.closeTo(c, 6)));
  });

  it('criterion (ii): with the UI angle fixed, RI falls as the embedding moves from its class to a negative one', () => {
    const rows = [
      [0.8, 0.1],
      [0.6, 0.3],
      [0.45, 0.45],
      [0.3, 0.6],
    ].map(([cy, cn]) => row(cy!, cn!, 0.2));
    const ri = recognizabilityIndex(flat(rows), [0, 0, 0, 0], flat(W), UI);
    for (let i = 1; i < rows.length; i++) {
      expect(ri.index[i]!).toBeLessThan(ri.index[i - 1]!);
      expect(ri.uiTerm[i]!).toBeCloseTo(ri.uiTerm[0]!, 6);
    }
    expect(ri.classTerm[2]!).toBeCloseTo(0.5, 6); // on the boundary
    expect(ri.negative[3]).toBe(1);
  });

  it('matches a float64 reference, with and without labels, for other constants too; stays in [0, 1]', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const D = 6;
    const protos = Array.from({ length: 5 }, () => Array.from({ length: D }, rnd));
    const emb = Array.from({ length: 40 }, () => Array.from({ length: D }, rnd));
    const ui = Array.from({ length: D }, rnd);
    const labels = emb.map((_, i) => i % 5);
    for (const [k, s] of [
      [10, 1],
      [3, 2],
    ] as const) {
      const got = recognizabilityIndex(flat(emb), labels, flat(protos), ui, { sharpness: k, uiScale: s });
      const want = reference(emb, labels, protos, ui, k, s);
      want.forEach((w, i) => expect(got.index[i]).toBeCloseTo(w, 6));
      const free = recognizabilityIndex(flat(emb), undefined, flat(protos), ui, { sharpness: k, uiScale: s });
      reference(emb, undefined, protos, ui, k, s).forEach((w, i) => expect(free.index[i]).toBeCloseTo(w, 6));
      for (const x of got.index) expect(x >= 0 && x <= 1).toBe(true);
    }
  });

  it('rejects bad input with one clear message', () => {
    expect(() => recognizabilityIndex(flat([row(0.5, 0, 0)]), [3], flat(W), UI)).toThrow(/label 3 of row 0 .* \[0, 3\)/);
    expect(() => recognizabilityIndex(new Float32Array(7), undefined, flat(W), UI)).toThrow(/not a whole number of 5-d rows/);
    expect(() => recognizabilityIndex(flat([row(0.5, 0, 0)]), undefined, flat([W[0]!]), UI)).toThrow(/at least 2 classes/);
    expect(() => recognizabilityIndex(flat([row(0.5, 0, 0)]), [0, 1], flat(W), UI)).toThrow(/2 labels for 1 embeddings/);
    expect(() => recognizabilityIndex(Float32Array.of(NaN, 0, 0, 0, 0), undefined, flat(W), UI)).toThrow(/NaN/);
    expect(() => recognizabilityIndex(flat([row(0.5, 0, 0)]), undefined, flat(W), UI, { sharpness: 0 })).toThrow(/sharpness/);
  });
});

describe('uiCenter and classPrototypes', () => {
  it('uiCenter is the normalised mean of normalised rows', () => {
    const rows = [
      [3, 0, 0],
      [0, 0.5, 0],
      [1, 1, 0],
    ];
    const c = uiCenter(flat(rows), 3);
    const m = [1 + Math.SQRT1_2, 1 + Math.SQRT1_2, 0];
    const n = Math.hypot(...m);
    m.forEach((x, i) => expect(c[i]).toBeCloseTo(x / n, 6));
    expect(() => uiCenter(flat([[1, 0], [-2, 0]]), 2)).toThrow(/no common direction/);
    expect(() => uiCenter(new Float32Array(0), 2)).toThrow(/no embeddings/);
  });

  it('classPrototypes are normalised class means of normalised rows', () => {
    const rows = [
      [2, 0],
      [0, 1],
      [0, 4],
      [1, 1],
    ];
    const p = classPrototypes(flat(rows), [0, 1, 1, 0], 2);
    const a = [1 + Math.SQRT1_2, Math.SQRT1_2];
    const na = Math.hypot(...a);
    expect(Array.from(p)).toEqual([a[0]! / na, a[1]! / na, 0, 1].map((x) => expect.closeTo(x, 6)));
    expect(() => classPrototypes(flat(rows), [0, 2, 2, 0], 2)).toThrow(/class\(es\) 1 have no embeddings/);
  });
});
