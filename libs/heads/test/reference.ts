// Independent float64 reference for the combined margin softmax: loss and closed-form gradients w.r.t.
// embeddings and (sub-)centres, written from the formulas (ArcFace TPAMI Eq. 4 / Eq. 7), not from the library.
import { uniformFloat64 as uniform } from '@facet/test-utils';
export { relErr } from '@facet/test-utils';
export { uniform };

export interface RefMargin {
  s: number;
  m1: number;
  m2: number;
  m3: number;
  rule: 'plain' | 'th_mm';
  gradient: 'exact' | 'straight_through';
}

export interface RefProblem {
  B: number;
  D: number;
  C: number;
  K: number;
  emb: Float64Array; // [B, D]
  centers: Float64Array; // [C, K, D]
  labels: Int32Array; // [B]
}

const EPS = 1e-7;

/** f(t) and df/dt for the target cosine (exact derivative; the caller replaces it by 1 for straight-through). */
export function refTarget(t: number, m: RefMargin): { f: number; df: number; beyondPi: boolean } {
  const tc = Math.min(1 - EPS, Math.max(-1 + EPS, t));
  const theta = Math.acos(tc);
  const beyondPi = m.m1 * theta + m.m2 > Math.PI;
  if (m.m1 === 1 && m.m2 === 0) return { f: t - m.m3, df: 1, beyondPi };
  if (m.rule === 'th_mm') {
    const th = Math.cos((Math.PI - m.m2) / m.m1);
    if (!(t > th)) return { f: t - Math.sin(Math.PI - m.m2) * m.m2 - m.m3, df: 1, beyondPi };
  }
  const f = Math.cos(m.m1 * theta + m.m2) - m.m3;
  // d/dt cos(m1·acos t + m2) = m1·sin(m1θ + m2)/sin θ
  const df = t > -1 + EPS && t < 1 - EPS ? (m.m1 * Math.sin(m.m1 * theta + m.m2)) / Math.sin(theta) : 0;
  return { f, df, beyondPi };
}

export interface RefResult {
  loss: number;
  gEmb: Float64Array;
  gCenters: Float64Array;
  /** Per sample: whether m1·θ_y + m2 > π (the non-monotone region). */
  beyondPi: boolean[];
  cos: Float64Array; // [B, C]
}

export function refMarginLoss(p: RefProblem, m: RefMargin): RefResult {
  const { B, D, C, K, emb, centers, labels } = p;
  const R = C * K;
  const xn = new Float64Array(B);
  const xh = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += emb[b * D + j]! ** 2;
    xn[b] = Math.sqrt(ss);
    for (let j = 0; j < D; j++) xh[b * D + j] = emb[b * D + j]! / xn[b]!;
  }
  const wn = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += centers[r * D + j]! ** 2;
    wn[r] = Math.sqrt(ss);
  }
  const cosK = new Float64Array(B * R);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < R; r++) {
      let dot = 0;
      for (let j = 0; j < D; j++) dot += xh[b * D + j]! * centers[r * D + j]!;
      cosK[b * R + r] = dot / wn[r]!;
    }
  const cos = new Float64Array(B * C);
  const arg = new Int32Array(B * C);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (cosK[b * R + c * K + k]! > cosK[b * R + c * K + best]!) best = k;
      arg[b * C + c] = best;
      cos[b * C + c] = Math.min(1, Math.max(-1, cosK[b * R + c * K + best]!));
    }
  let loss = 0;
  const dcos = new Float64Array(B * C);
  const beyondPi: boolean[] = [];
  for (let b = 0; b < B; b++) {
    const y = labels[b]!;
    const tgt = refTarget(cos[b * C + y]!, m);
    beyondPi.push(tgt.beyondPi);
    const z = new Float64Array(C);
    for (let c = 0; c < C; c++) z[c] = m.s * (c === y ? tgt.f : cos[b * C + c]!);
    const mx = Math.max(...z);
    let se = 0;
    for (let c = 0; c < C; c++) se += Math.exp(z[c]! - mx);
    const lse = mx + Math.log(se);
    loss += (lse - z[y]!) / B;
    for (let c = 0; c < C; c++) {
      const dz = (Math.exp(z[c]! - lse) - (c === y ? 1 : 0)) / B;
      const slope = c === y ? (m.gradient === 'exact' ? tgt.df : 1) : 1;
      dcos[b * C + c] = m.s * dz * slope;
    }
  }
  const gEmb = new Float64Array(B * D);
  const gCenters = new Float64Array(R * D);
  for (let b = 0; b < B; b++) {
    const gxh = new Float64Array(D);
    for (let c = 0; c < C; c++) {
      const r = c * K + arg[b * C + c]!;
      const raw = cosK[b * R + r]!;
      if (Math.abs(raw) > 1) continue; // the [−1, 1] clamp has zero gradient outside
      const g = dcos[b * C + c]!;
      for (let j = 0; j < D; j++) {
        gxh[j]! += (g * centers[r * D + j]!) / wn[r]!;
        gCenters[r * D + j]! += g * (xh[b * D + j]! / wn[r]! - (raw * centers[r * D + j]!) / wn[r]! ** 2);
      }
    }
    let dot = 0;
    for (let j = 0; j < D; j++) dot += gxh[j]! * xh[b * D + j]!;
    for (let j = 0; j < D; j++) gEmb[b * D + j] = (gxh[j]! - dot * xh[b * D + j]!) / xn[b]!;
  }
  return { loss, gEmb, gCenters, beyondPi, cos };
}

/** Central finite differences of the float64 loss w.r.t. every coordinate of `which`. */
export function finiteDifferences(p: RefProblem, m: RefMargin, which: 'emb' | 'centers', h = 1e-6): Float64Array {
  const arr = which === 'emb' ? p.emb : p.centers;
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    arr[i] = v + h;
    const up = refMarginLoss(p, m).loss;
    arr[i] = v - h;
    const dn = refMarginLoss(p, m).loss;
    arr[i] = v;
    out[i] = (up - dn) / (2 * h);
  }
  return out;
}

/**
 * A small problem where rows 0 and 1 sit almost opposite their class (cos ≈ −0.95, so θ + m2 > π for ArcFace and
 * m1·θ > π for SphereFace) and the rest are random. All values are float32-representable so the engine sees the
 * same numbers as the reference.
 */
export function makeProblem(B: number, D: number, C: number, K: number, seed: number): RefProblem {
  const centers = uniform(C * K * D, seed);
  const emb = uniform(B * D, seed + 1);
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) labels[b] = (b * 7 + 3) % C;
  // class of rows 0/1: sub-centres close to one base direction, embeddings opposite to it
  for (const b of [0, 1]) {
    const y = labels[b]!;
    const base = uniform(D, seed + 10 + b);
    const noiseW = uniform(K * D, seed + 20 + b);
    for (let k = 0; k < K; k++) for (let j = 0; j < D; j++) centers[(y * K + k) * D + j] = base[j]! + 0.1 * noiseW[k * D + j]!;
    const noiseX = uniform(D, seed + 30 + b);
    for (let j = 0; j < D; j++) emb[b * D + j] = -2 * base[j]! + 0.1 * noiseX[j]!;
  }
  for (let i = 0; i < centers.length; i++) centers[i] = Math.fround(centers[i]!);
  for (let i = 0; i < emb.length; i++) emb[i] = Math.fround(emb[i]!);
  return { B, D, C, K, emb, centers, labels };
}
