// Error-versus-reject curves (EDC/ERC; Grother & Tabassi 2007, ISO/IEC 29794-1; theory.md §3.4 after
// fdbtrs/CR-FIQA ERC/erc.py): a comparison's quality is the minimum of its two images' qualities; the fraction u of
// lowest-quality comparisons is discarded and the false non-match rate of the rest is measured at the threshold that
// gives the target FMR. A better quality measure makes FNMR fall faster as u grows (lower curve, smaller area).
import { makeRng, mixSeed } from '@facet/data';

export type ErcThresholdMode = 'fixed' | 'recompute';

export interface ErrorVersusRejectOptions {
  /** Target false match rates. Default [1e-2, 1e-3]. */
  fmrs?: number[];
  /** Discarded fractions u, each in [0, 1). Default 0, 0.05, …, 0.95. */
  rejectFractions?: number[];
  /**
   * 'fixed' (default, ISO/IEC 29794-1): the threshold is set once on all pairs. 'recompute' (CR-FIQA's erc.py):
   * it is set again on the impostors left at each u.
   */
  threshold?: ErcThresholdMode;
  /** Random-discard baseline: curves averaged over this many seeded random orders (0 = none). Default 10. */
  randomRepeats?: number;
  seed?: number;
}

export interface ErcPoint {
  /** Fraction of pairs discarded. */
  reject: number;
  /** Pairs kept, genuine and impostor among them. */
  kept: number;
  genuine: number;
  impostor: number;
  /** Decision threshold in score units: a pair matches when its score is > threshold. */
  threshold: number;
  /** False non-match rate of the kept genuine pairs (null when none are left). */
  fnmr: number | null;
  /** False match rate of the kept impostor pairs (null when none are left). */
  fmr: number | null;
}

export interface ErcCurve {
  /** Quality measure ('random' for the random-discard baseline). */
  measure: string;
  /** Target FMR the threshold was set at. */
  targetFmr: number;
  points: ErcPoint[];
  /** Trapezoidal area under FNMR(u) over the reject fractions that have an FNMR (lower is better). */
  auc: number | null;
}

export interface ErrorVersusReject {
  pairs: number;
  genuine: number;
  impostor: number;
  thresholdMode: ErcThresholdMode;
  fmrs: number[];
  rejectFractions: number[];
  /** Full-set threshold per target FMR (same order as fmrs). */
  thresholds: number[];
  /** One curve per (measure, FMR), measures in the order given, then 'random'. */
  curves: ErcCurve[];
  /** Caveats (too few impostors for an FMR target, etc.). */
  notes: string[];
}

export const DEFAULT_ERC_FMRS = [1e-2, 1e-3];
export const DEFAULT_REJECT_FRACTIONS = Array.from({ length: 20 }, (_, i) => +(i * 0.05).toFixed(2));

/** The quality of a comparison: min(q_a, q_b) (the usual EDC convention; theory.md §3.4). */
export function pairQuality(qualityA: ArrayLike<number>, qualityB: ArrayLike<number>): Float64Array {
  if (qualityA.length !== qualityB.length) throw new Error(`pairQuality: ${qualityA.length} vs ${qualityB.length} qualities; pass one per image of each pair.`);
  const out = new Float64Array(qualityA.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(qualityA[i]!, qualityB[i]!);
  return out;
}

/**
 * Threshold for a target FMR on impostor scores: the (⌊fmr·I⌋ + 1)-th highest impostor score, with match ⇔ score >
 * threshold, so at most ⌊fmr·I⌋ impostors match (ties at the threshold are all rejected: never above the target).
 */
export function thresholdAtFmr(impostorScores: ArrayLike<number>, fmr: number): number {
  const sorted = Float64Array.from(impostorScores).sort().reverse();
  const allowed = Math.floor(fmr * sorted.length + 1e-9);
  return allowed >= sorted.length ? -Infinity : sorted[allowed]!;
}

function validate(scores: ArrayLike<number>, issame: ArrayLike<boolean>, qualities: Record<string, ArrayLike<number>>, o: ErrorVersusRejectOptions) {
  const n = scores.length;
  if (issame.length !== n) throw new Error(`errorVersusReject: ${n} scores but ${issame.length} issame flags; pass one flag per pair.`);
  if (n === 0) throw new Error('errorVersusReject: no pairs.');
  for (let i = 0; i < n; i++) if (!Number.isFinite(scores[i]!)) throw new Error(`errorVersusReject: score ${i} is ${scores[i]}; scores must be finite.`);
  for (const [name, q] of Object.entries(qualities)) {
    if (name === 'random') throw new Error("errorVersusReject: 'random' is the built-in baseline; name your measure differently.");
    if (q.length !== n) throw new Error(`errorVersusReject: measure "${name}" has ${q.length} pair qualities for ${n} pairs; use pairQuality(qa, qb).`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(q[i]!)) throw new Error(`errorVersusReject: measure "${name}" is ${q[i]} at pair ${i}; qualities must be finite.`);
  }
  const fmrs = o.fmrs ?? DEFAULT_ERC_FMRS;
  if (!Array.isArray(fmrs) || fmrs.length === 0 || fmrs.some((f) => !(f > 0 && f < 1))) throw new Error(`errorVersusReject: fmrs must be numbers in (0, 1), e.g. [1e-2, 1e-3] (got ${JSON.stringify(fmrs)}).`);
  const rejects = o.rejectFractions ?? DEFAULT_REJECT_FRACTIONS;
  if (!Array.isArray(rejects) || rejects.length === 0 || rejects.some((u) => !(u >= 0 && u < 1))) throw new Error(`errorVersusReject: rejectFractions must be numbers in [0, 1) (got ${JSON.stringify(rejects)}).`);
  for (let i = 1; i < rejects.length; i++) if (!(rejects[i]! > rejects[i - 1]!)) throw new Error('errorVersusReject: rejectFractions must be increasing.');
  const mode = o.threshold ?? 'fixed';
  if (mode !== 'fixed' && mode !== 'recompute') throw new Error(`errorVersusReject: threshold must be 'fixed' or 'recompute' (got ${String(mode)}).`);
  const repeats = o.randomRepeats ?? 10;
  if (!Number.isInteger(repeats) || repeats < 0) throw new Error(`errorVersusReject: randomRepeats must be an integer ≥ 0 (got ${repeats}).`);
  return { n, fmrs, rejects, mode, repeats, seed: o.seed ?? 0 };
}

/** Pair indices by ascending quality (ties by index): discarding u means dropping the first round(u·N). */
function ascendingOrder(q: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: q.length }, (_, i) => i);
  return idx.sort((a, b) => q[a]! - q[b]! || a - b);
}

function curvePoints(
  order: Int32Array,
  scores: ArrayLike<number>,
  issame: ArrayLike<boolean>,
  rejects: number[],
  fullThreshold: number,
  fmr: number,
  mode: ErcThresholdMode,
): ErcPoint[] {
  const n = order.length;
  return rejects.map((u) => {
    const start = Math.round(u * n);
    let genuine = 0;
    let falseNonMatch = 0;
    const impostorScores: number[] = [];
    for (let p = start; p < n; p++) {
      const i = order[p]!;
      if (issame[i]) genuine++;
      else impostorScores.push(scores[i]!);
    }
    const threshold = mode === 'fixed' ? fullThreshold : impostorScores.length ? thresholdAtFmr(impostorScores, fmr) : NaN;
    let falseMatch = 0;
    for (let p = start; p < n; p++) {
      const i = order[p]!;
      if (issame[i]) {
        if (!(scores[i]! > threshold)) falseNonMatch++;
      } else if (scores[i]! > threshold) falseMatch++;
    }
    return {
      reject: u,
      kept: n - start,
      genuine,
      impostor: impostorScores.length,
      threshold,
      fnmr: genuine > 0 && !Number.isNaN(threshold) ? falseNonMatch / genuine : null,
      fmr: impostorScores.length > 0 && !Number.isNaN(threshold) ? falseMatch / impostorScores.length : null,
    };
  });
}

/** Trapezoid rule over the points that have an FNMR (sklearn.metrics.auc on (u, FNMR)). */
export function areaUnderErc(points: Array<{ reject: number; fnmr: number | null }>): number | null {
  const p = points.filter((q) => q.fnmr !== null);
  if (p.length < 2) return null;
  let area = 0;
  for (let i = 1; i < p.length; i++) area += ((p[i]!.reject - p[i - 1]!.reject) * (p[i]!.fnmr! + p[i - 1]!.fnmr!)) / 2;
  return area;
}

/**
 * ERC of every quality measure (per-pair qualities, higher = better; use pairQuality for min(q_a, q_b)) at each
 * target FMR, plus the random-discard baseline. `scores` are similarities (higher = same person).
 */
export function errorVersusReject(
  scores: ArrayLike<number>,
  issame: ArrayLike<boolean>,
  pairQualities: Record<string, ArrayLike<number>>,
  options: ErrorVersusRejectOptions = {},
): ErrorVersusReject {
  const { n, fmrs, rejects, mode, repeats, seed } = validate(scores, issame, pairQualities, options);
  const impostorScores: number[] = [];
  let genuine = 0;
  for (let i = 0; i < n; i++) (issame[i] ? genuine++ : impostorScores.push(scores[i]!));
  const notes: string[] = [];
  if (genuine === 0 || impostorScores.length === 0) {
    throw new Error(`errorVersusReject: ${genuine} genuine and ${impostorScores.length} impostor pairs; both kinds are needed.`);
  }
  for (const f of fmrs) {
    if (f * impostorScores.length < 1) notes.push(`FMR ${f}: needs ≥ ${Math.ceil(1 / f)} impostor pairs, have ${impostorScores.length}: the threshold rejects every impostor`);
    else if (f * impostorScores.length < 10) notes.push(`FMR ${f}: only ${Math.floor(f * impostorScores.length)} false matches allowed (${impostorScores.length} impostor pairs): high variance`);
  }
  const thresholds = fmrs.map((f) => thresholdAtFmr(impostorScores, f));
  const curves: ErcCurve[] = [];
  for (const [measure, q] of Object.entries(pairQualities)) {
    const order = ascendingOrder(q);
    fmrs.forEach((f, k) => {
      const points = curvePoints(order, scores, issame, rejects, thresholds[k]!, f, mode);
      curves.push({ measure, targetFmr: f, points, auc: areaUnderErc(points) });
    });
  }
  if (repeats > 0) {
    const orders = Array.from({ length: repeats }, (_, r) => {
      const rng = makeRng(mixSeed(seed, 0xe2c, r));
      return ascendingOrder(Float64Array.from({ length: n }, () => rng.next()));
    });
    fmrs.forEach((f, k) => {
      const runs = orders.map((o) => curvePoints(o, scores, issame, rejects, thresholds[k]!, f, mode));
      const points = rejects.map((u, j): ErcPoint => {
        const mean = (get: (p: ErcPoint) => number | null) => {
          const vals = runs.map((r) => get(r[j]!)).filter((v): v is number => v !== null);
          return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
        };
        return {
          reject: u,
          kept: runs[0]![j]!.kept,
          genuine: mean((p) => p.genuine)!,
          impostor: mean((p) => p.impostor)!,
          threshold: mode === 'fixed' ? thresholds[k]! : mean((p) => (Number.isNaN(p.threshold) ? null : p.threshold)) ?? NaN,
          fnmr: mean((p) => p.fnmr),
          fmr: mean((p) => p.fmr),
        };
      });
      curves.push({ measure: 'random', targetFmr: f, points, auc: areaUnderErc(points) });
    });
  }
  return { pairs: n, genuine, impostor: impostorScores.length, thresholdMode: mode, fmrs, rejectFractions: rejects, thresholds, curves, notes };
}
