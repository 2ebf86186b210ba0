import { assertFinite } from './rows.js';

/**
 * A ROC curve with one point per distinct score (no points dropped), starting at (0, 0).
 * Point i accepts the pairs whose score is ≥ thresholds[i] (higherIsSame) or ≤ thresholds[i] (distances).
 */
export interface RocCurve {
  /** False accept rate = FP / impostor pairs, non-decreasing. */
  far: Float64Array;
  /** True accept rate = TP / genuine pairs, non-decreasing. */
  tar: Float64Array;
  /** Score threshold of each point (±Infinity for the (0, 0) start). */
  thresholds: Float64Array;
  higherIsSame: boolean;
  /** Number of genuine (same) and impostor (different) pairs. */
  genuine: number;
  impostor: number;
}

/**
 * ROC from pair scores, as sklearn.metrics.roc_curve with drop_intermediate=False: sort by score, one point per
 * distinct score (tied scores enter together), cumulative TP and FP divided by the genuine / impostor totals.
 * `higherIsSame` = true for similarities, false for distances.
 */
export function rocCurve(scores: ArrayLike<number>, issame: ArrayLike<boolean>, higherIsSame = true): RocCurve {
  const n = scores.length;
  if (issame.length !== n) throw new Error(`rocCurve: ${n} scores but ${issame.length} issame labels; pass one label per pair.`);
  assertFinite(scores, 'ROC scores');
  let genuine = 0;
  for (let i = 0; i < n; i++) if (issame[i]) genuine++;
  const impostor = n - genuine;
  if (genuine === 0 || impostor === 0) {
    throw new Error(`a ROC needs both genuine and impostor pairs; got ${genuine} genuine and ${impostor} impostor. Check the issame labels.`);
  }
  const sign = higherIsSame ? 1 : -1;
  const idx = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => sign * (scores[b]! - scores[a]!));
  const far = [0];
  const tar = [0];
  const thr = [higherIsSame ? Infinity : -Infinity];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[idx[i]!]!;
    if (issame[idx[i]!]) tp++;
    else fp++;
    if (i + 1 < n && scores[idx[i + 1]!]! === s) continue;
    far.push(fp / impostor);
    tar.push(tp / genuine);
    thr.push(s);
  }
  return { far: Float64Array.from(far), tar: Float64Array.from(tar), thresholds: Float64Array.from(thr), higherIsSame, genuine, impostor };
}

/**
 * Area under the ROC by the trapezoid rule (sklearn.metrics.auc). With one point per distinct score this equals
 * the Mann–Whitney probability that a genuine pair outscores an impostor pair, ties counting one half.
 */
export function areaUnderRoc(roc: RocCurve): number {
  let a = 0;
  for (let i = 1; i < roc.far.length; i++) a += ((roc.far[i]! - roc.far[i - 1]!) * (roc.tar[i]! + roc.tar[i - 1]!)) / 2;
  return a;
}

export interface EqualErrorRate {
  /** The rate where FAR = FRR (= 1 − TAR), linearly interpolated between the two ROC points that bracket it. */
  eer: number;
  /** Threshold of the first ROC point with FAR ≥ FRR. */
  threshold: number;
}

/** Equal error rate: FAR rises from 0 and FRR falls to 0 along the curve, so they cross exactly once. */
export function equalErrorRate(roc: RocCurve): EqualErrorRate {
  const { far, tar } = roc;
  for (let i = 1; i < far.length; i++) {
    const d1 = far[i]! - (1 - tar[i]!);
    if (d1 < 0) continue;
    const d0 = far[i - 1]! - (1 - tar[i - 1]!);
    const alpha = d0 === d1 ? 0 : d0 / (d0 - d1);
    return { eer: far[i - 1]! + alpha * (far[i]! - far[i - 1]!), threshold: roc.thresholds[i]! };
  }
  // Unreachable for a well-formed curve (it ends at FAR = 1, FRR = 0).
  return { eer: 0, threshold: roc.thresholds[far.length - 1]! };
}

export interface TarAtFar {
  /** The requested false accept rate. */
  far: number;
  /** True accept rate there, or null when the impostor pairs are too few to measure this FAR. */
  tar: number | null;
  /** Score threshold of the operating point (null with tar). */
  threshold: number | null;
  /** FAR actually achieved at that threshold. */
  achievedFar: number | null;
  /** Why tar is null, or a caution when few false accepts are allowed; '' otherwise. */
  note: string;
}

export interface TarAtFarOptions {
  /**
   * 'at-most' (default): the best TAR among points with FAR ≤ target (a threshold that never exceeds the target,
   * as FMR is set in NIST FRVT). 'nearest': insightface's IJB convention (AT/eval_ijbc.py): sklearn's ROC with
   * drop_intermediate, the point whose FAR is nearest the target, ties to the larger TAR.
   */
  mode?: 'at-most' | 'nearest';
}

/** The FARs insightface reports, down to what verification sets of a few thousand pairs can support. */
export const DEFAULT_FARS: readonly number[] = [1e-1, 1e-2, 1e-3, 1e-4];

/**
 * TAR at given FARs. A FAR below 1/impostors cannot be measured (it would allow less than one false accept), so
 * it gets tar = null and a note naming the pair count needed; with fewer than 10 false accepts allowed the value
 * comes with a high-variance caution.
 */
export function tarAtFar(roc: RocCurve, fars: readonly number[] = DEFAULT_FARS, opts: TarAtFarOptions = {}): TarAtFar[] {
  const mode = opts.mode ?? 'at-most';
  if (mode !== 'at-most' && mode !== 'nearest') throw new Error(`tarAtFar mode "${String(mode)}" is unknown; use 'at-most' or 'nearest'.`);
  const kept = mode === 'nearest' ? sklearnKeptPoints(roc) : null;
  return fars.map((target) => {
    if (!(target > 0 && target <= 1)) throw new Error(`FAR ${target} is invalid; use a rate in (0, 1], e.g. 1e-3.`);
    const allowed = target * roc.impostor;
    if (allowed < 1) {
      return {
        far: target,
        tar: null,
        threshold: null,
        achievedFar: null,
        note: `needs ≥ ${Math.ceil(1 / target)} impostor pairs, have ${roc.impostor}`,
      };
    }
    let i: number;
    if (kept) {
      i = kept[0]!;
      for (const k of kept) {
        const dk = Math.abs(roc.far[k]! - target);
        const di = Math.abs(roc.far[i]! - target);
        if (dk < di || (dk === di && roc.tar[k]! >= roc.tar[i]!)) i = k;
      }
    } else {
      i = 0;
      while (i + 1 < roc.far.length && roc.far[i + 1]! <= target) i++;
    }
    const fa = Math.floor(allowed + 1e-9);
    return {
      far: target,
      tar: roc.tar[i]!,
      threshold: roc.thresholds[i]!,
      achievedFar: roc.far[i]!,
      note: fa < 10 ? `only ${fa} false accept${fa === 1 ? '' : 's'} allowed (${roc.impostor} impostor pairs): high variance` : '',
    };
  });
}

/**
 * Indices of the points sklearn.metrics.roc_curve keeps with drop_intermediate=True: a point in the middle of a
 * straight run (both second differences of FP and TP zero) is dropped; the first and last are kept, and the
 * (0, 0) start is added back in front.
 */
function sklearnKeptPoints(roc: RocCurve): number[] {
  const m = roc.far.length - 1; // points after the (0, 0) start
  const fps = (i: number) => roc.far[i + 1]! * roc.impostor;
  const tps = (i: number) => roc.tar[i + 1]! * roc.genuine;
  const kept = [0];
  for (let i = 0; i < m; i++) {
    if (m <= 2 || i === 0 || i === m - 1) kept.push(i + 1);
    else {
      const d2f = Math.round(fps(i + 1) - 2 * fps(i) + fps(i - 1));
      const d2t = Math.round(tps(i + 1) - 2 * tps(i) + tps(i - 1));
      if (d2f !== 0 || d2t !== 0) kept.push(i + 1);
    }
  }
  return kept;
}
