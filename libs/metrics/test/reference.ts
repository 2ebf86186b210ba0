// Float64 reference implementations written directly from the formulas, as plain loops with no blocking and
// no engine, for the tests to compare against.
export { maxAbsDiff, uniformFloat32 as randomArray } from '@facet/test-utils';

export type Rows = number[][];

export function toRows(data: ArrayLike<number>, dim: number): Rows {
  const rows: Rows = [];
  for (let i = 0; i < data.length / dim; i++) rows.push(Array.from({ length: dim }, (_, j) => data[i * dim + j]!));
  return rows;
}

export const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);
export const norm = (a: number[]) => Math.sqrt(dot(a, a));
export const unit = (a: number[]) => a.map((v) => v / norm(a));
export const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));

export function refAlignment(v1: Rows, v2: Rows, alpha: number): number {
  return v1.reduce((s, r, i) => s + dist(unit(r), unit(v2[i]!)) ** alpha, 0) / v1.length;
}

export function refUniformity(x: Rows, t: number): number {
  const u = x.map(unit);
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < u.length; i++) {
    for (let j = i + 1; j < u.length; j++) {
      s += Math.exp(-t * dist(u[i]!, u[j]!) ** 2);
      pairs++;
    }
  }
  return Math.log(s / pairs);
}

/** Centres keyed by label, over all views. */
export function refCenters(views: Rows[], labels: number[]): Map<number, number[]> {
  const sums = new Map<number, { s: number[]; c: number }>();
  for (const v of views) {
    v.forEach((r, i) => {
      const e = sums.get(labels[i]!) ?? { s: new Array(r.length).fill(0), c: 0 };
      unit(r).forEach((x, j) => (e.s[j]! += x));
      e.c++;
      sums.set(labels[i]!, e);
    });
  }
  return new Map([...sums].sort((a, b) => a[0] - b[0]).map(([k, e]) => [k, e.s.map((x) => x / e.c)]));
}

export function refDivergence(centers: Map<number, number[]>) {
  const mus = [...centers.values()];
  let minL2 = Infinity;
  let maxCos = -Infinity;
  let maxIp = -Infinity;
  let cosSum = 0;
  const cosines: number[] = [];
  for (let k = 0; k < mus.length; k++) {
    for (let l = k + 1; l < mus.length; l++) {
      const a = mus[k]!;
      const b = mus[l]!;
      minL2 = Math.min(minL2, dist(a, b));
      const c = dot(a, b) / (norm(a) * norm(b));
      maxCos = Math.max(maxCos, c);
      maxIp = Math.max(maxIp, dot(a, b));
      cosSum += c;
      cosines.push(c);
    }
  }
  const minNormSq = Math.min(...mus.map((m) => dot(m, m)));
  return { minL2, maxCos, maxIp, meanCos: cosSum / cosines.length, cosines, deltaMu: 1 - minNormSq };
}

/** σ_k(δ) by brute force: for each candidate c, count samples with min over view pairs ||z - z_c|| ≤ δ/2. */
export function refClassSigma(v1: Rows, v2: Rows, members: number[], candidates: number[], deltas: number[], normalize = true): number[] {
  return refClassSigmaViews([v1, v2], members, candidates, deltas, normalize);
}

export function refClassSigmaViews(views: Rows[], members: number[], candidates: number[], deltas: number[], normalize = true): number[] {
  const f = normalize ? unit : (r: number[]) => r;
  const dA = (i: number, j: number) => Math.min(...views.flatMap((p) => views.map((q) => dist(f(p[i]!), f(q[j]!)))));
  return deltas.map((d) => {
    let best = 0;
    for (const c of candidates) best = Math.max(best, members.filter((i) => dA(i, c) <= d / 2).length);
    return best / members.length;
  });
}

/** argmin_k ||f̂(x) - µ_k|| (distance form, independent of the linear form used by the lib). */
export function refNearestCenterAccuracy(train: Rows[], trainLabels: number[], test: Rows[], testLabels: number[]): number {
  const centers = refCenters(train, trainLabels);
  let correct = 0;
  let total = 0;
  for (const v of test) {
    v.forEach((r, i) => {
      let best = -1;
      let bestD = Infinity;
      for (const [k, mu] of centers) {
        const d = dist(unit(r), mu);
        if (d < bestD) (bestD = d), (best = k);
      }
      if (best === testLabels[i]) correct++;
      total++;
    });
  }
  return correct / total;
}

// ----- losses, float64 -----

const logSumExp = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
};

export function refNtXent(z1: Rows, z2: Rows, tau: number): number {
  const z = [...z1, ...z2].map(unit);
  const n = z.length;
  const b = z1.length;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const others = z.map((zk, k) => (k === i ? -Infinity : dot(z[i]!, zk) / tau)).filter((x) => x !== -Infinity);
    loss += -(dot(z[i]!, z[(i + b) % n]!) / tau - logSumExp(others));
  }
  return loss / n;
}

export function refInfoNce(z1: Rows, z2: Rows, tau: number, symmetric: boolean): number {
  const a = z1.map(unit);
  const b = z2.map(unit);
  const dir = (p: Rows, q: Rows) => p.reduce((s, pi, i) => s - (dot(pi, q[i]!) / tau - logSumExp(q.map((qj) => dot(pi, qj) / tau))), 0) / p.length;
  return symmetric ? (dir(a, b) + dir(b, a)) / 2 : dir(a, b);
}

export function refBarlow(z1: Rows, z2: Rows, lambda: number, mode: 'biased' | 'unbiased', eps: number): number {
  const n = z1.length;
  const d = z1[0]!.length;
  const std = (z: Rows) => {
    const out = z.map((r) => [...r]);
    for (let j = 0; j < d; j++) {
      const m = z.reduce((s, r) => s + r[j]!, 0) / n;
      const v = z.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / (mode === 'biased' ? n : n - 1);
      for (let i = 0; i < n; i++) out[i]![j] = (z[i]![j]! - m) / Math.sqrt(v + eps);
    }
    return out;
  };
  const a = std(z1);
  const b = std(z2);
  let loss = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let f = 0;
      for (let k = 0; k < n; k++) f += a[k]![i]! * b[k]![j]!;
      f /= n;
      loss += i === j ? (1 - f) ** 2 : lambda * f * f;
    }
  }
  return loss;
}

/** Central finite differences (float64) of a scalar function of a flat array. */
export function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const p = [...x];
    const m = [...x];
    p[i]! += h;
    m[i]! -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}

