import { assignFolds, type FoldSource } from './kfold.js';
import { assertFinite } from './rows.js';
import { defaultThresholds, thresholdAsCosine, type VerificationMetric } from './thresholds.js';

export interface VerificationAccuracyOptions {
  /** 'l2': score = squared L2 distance, same ⇔ score < threshold. 'cosine': same ⇔ score > threshold. */
  metric: VerificationMetric;
  /** Candidate thresholds in the metric's units (default: insightface's 400-point grid, see thresholds.ts). */
  thresholds?: Float64Array;
  /** Number of contiguous folds (default 10); ignored when `foldIds` is given. */
  folds?: number;
  /**
   * Fold id of each pair (a pairs list's fold column, e.g. `pathA pathB same fold`): the pairs of one id form one
   * test fold, instead of the contiguous split. Any integers; folds are ordered by ascending id.
   */
  foldIds?: ArrayLike<number>;
}

export interface VerificationFold {
  /** Threshold chosen on the other folds (metric units): the first grid point of highest train accuracy. */
  threshold: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Pairs in this test fold. */
  testPairs: number;
  /** Pair index range [start, end) of this test fold (contiguous folds only). */
  testRange?: [number, number];
  /** The fold's id in the pairs list's fold column (file folds only). */
  foldId?: number;
}

export interface VerificationResult {
  metric: VerificationMetric;
  /** Mean of the fold test accuracies (insightface "Accuracy-Flip"). */
  accuracy: number;
  /** Population standard deviation (numpy's default ddof=0) of the fold test accuracies. */
  std: number;
  folds: VerificationFold[];
  /** 'file': the folds of the pairs list's fold column; 'contiguous': insightface's split of the pair order. */
  foldSource: FoldSource;
  foldCount: number;
  /** Threshold of highest accuracy over all pairs (first best grid point), in metric units: the one to deploy. */
  bestThreshold: number;
  /** Accuracy over all pairs at `bestThreshold` (optimistic: chosen and measured on the same pairs). */
  bestAccuracy: number;
  /** `bestThreshold` as a cosine similarity (for 'l2' this assumes unit-norm embeddings: cos = 1 − d/2). */
  bestThresholdCosine: number;
}

/** Index of the first element ≥ / > x in an ascending array (`strict`: first element > x). */
function bound(sorted: Float64Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? sorted[mid]! <= x : sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Correct decisions at every threshold (in the caller's threshold order) for pairs summarised by their bucket
 * histograms. Bucket k of a pair = how many sorted thresholds lie below its score (≤ for 'l2', < for 'cosine'),
 * so at sorted threshold j an 'l2' pair is called same iff k ≤ j and a 'cosine' pair iff k > j.
 */
function correctCounts(
  sameHist: Float64Array,
  diffHist: Float64Array,
  order: Int32Array,
  metric: VerificationMetric,
): Float64Array {
  const t = order.length;
  let nSame = 0;
  let nDiff = 0;
  for (let k = 0; k <= t; k++) {
    nSame += sameHist[k]!;
    nDiff += diffHist[k]!;
  }
  const out = new Float64Array(t);
  let cumSame = 0;
  let cumDiff = 0;
  for (let j = 0; j < t; j++) {
    cumSame += sameHist[j]!;
    cumDiff += diffHist[j]!;
    // l2: TP = same pairs with k ≤ j, TN = different pairs with k > j. cosine: the complement of each.
    out[order[j]!] = metric === 'l2' ? cumSame + (nDiff - cumDiff) : nSame - cumSame + cumDiff;
  }
  return out;
}

/** First index of the maximum (numpy argmax semantics: ties go to the earliest threshold). */
function firstArgmax(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * insightface's 10-fold verification accuracy (AT/eval/verification.py `calculate_roc`): split the pairs into
 * contiguous folds (sklearn KFold, shuffle=False), or the folds given by `foldIds`; for each fold pick the threshold maximising accuracy
 * (TP + TN)/n on the other folds (first argmax over the grid), then measure accuracy on the fold; report
 * mean ± std. insightface's optional `subtract_mean` (subtract the train folds' mean embedding; off by default)
 * is not reproduced: it needs the embeddings, not the scores.
 *
 * Cost O(n log T + folds·T) instead of insightface's O(folds·n·T): each pair is bucketed once by binary search
 * and every fold's accuracy curve is a prefix sum over buckets. Comparisons are the same float64 `<` / `>` as
 * numpy's (insightface's embeddings and distances are float64), so the counts are exact. Float32 scores are
 * compared as the float64 values they represent.
 */
export function verificationAccuracy(scores: Float32Array | Float64Array, issame: ArrayLike<boolean>, opts: VerificationAccuracyOptions): VerificationResult {
  const metric = opts.metric;
  if (metric !== 'l2' && metric !== 'cosine') throw new Error(`metric "${String(metric)}" is not supported; use 'cosine' or 'l2'.`);
  const n = scores.length;
  if (issame.length !== n) throw new Error(`verificationAccuracy: ${n} scores but ${issame.length} issame labels; pass one label per pair.`);
  assertFinite(scores, 'verification scores');
  const thresholds = opts.thresholds ?? defaultThresholds(metric);
  if (thresholds.length === 0) throw new Error('verificationAccuracy: thresholds is empty; pass at least one (or omit it for the insightface grid).');
  for (const t of thresholds) if (Number.isNaN(t)) throw new Error('verificationAccuracy: thresholds contains NaN.');
  const assignment = assignFolds(n, opts.folds ?? 10, opts.foldIds);
  const { foldOf, sizes } = assignment;

  const T = thresholds.length;
  const order = Int32Array.from({ length: T }, (_, i) => i).sort((a, b) => thresholds[a]! - thresholds[b]! || a - b);
  const sorted = Float64Array.from(order, (i) => thresholds[i]!);

  // Per-fold bucket histograms of same and different pairs.
  const sameHist = sizes.map(() => new Float64Array(T + 1));
  const diffHist = sizes.map(() => new Float64Array(T + 1));
  for (let i = 0; i < n; i++) {
    const k = bound(sorted, scores[i]!, metric === 'l2');
    (issame[i] ? sameHist : diffHist)[foldOf[i]!]![k]! += 1;
  }
  const totalSame = new Float64Array(T + 1);
  const totalDiff = new Float64Array(T + 1);
  for (let f = 0; f < sizes.length; f++) {
    for (let k = 0; k <= T; k++) {
      totalSame[k]! += sameHist[f]![k]!;
      totalDiff[k]! += diffHist[f]![k]!;
    }
  }

  const folds: VerificationFold[] = sizes.map((size, f) => {
    const trainSame = totalSame.map((v, k) => v - sameHist[f]![k]!);
    const trainDiff = totalDiff.map((v, k) => v - diffHist[f]![k]!);
    const train = correctCounts(trainSame, trainDiff, order, metric);
    const best = firstArgmax(train);
    const test = correctCounts(sameHist[f]!, diffHist[f]!, order, metric);
    return {
      threshold: thresholds[best]!,
      trainAccuracy: train[best]! / (n - size),
      testAccuracy: test[best]! / size,
      testPairs: size,
      ...(assignment.ranges ? { testRange: assignment.ranges[f]! } : {}),
      ...(assignment.ids ? { foldId: assignment.ids[f]! } : {}),
    };
  });

  const accs = folds.map((f) => f.testAccuracy);
  const mean = accs.reduce((s, a) => s + a, 0) / accs.length;
  const std = Math.sqrt(accs.reduce((s, a) => s + (a - mean) ** 2, 0) / accs.length);
  const all = correctCounts(totalSame, totalDiff, order, metric);
  const best = firstArgmax(all);
  return {
    metric,
    accuracy: mean,
    std,
    folds,
    foldSource: assignment.source,
    foldCount: folds.length,
    bestThreshold: thresholds[best]!,
    bestAccuracy: all[best]! / n,
    bestThresholdCosine: thresholdAsCosine(thresholds[best]!, metric),
  };
}
