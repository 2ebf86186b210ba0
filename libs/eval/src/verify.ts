import { areaUnderRoc, DEFAULT_FARS, equalErrorRate, rocCurve, tarAtFar, type RocCurve, type TarAtFar, type TarAtFarOptions } from './roc.js';
import { assertFinite, rowCount } from './rows.js';
import type { VerificationMetric } from './thresholds.js';
import { verificationAccuracy, type VerificationResult } from './verification-accuracy.js';

export interface PairScores {
  /** Cosine similarity of the L2-normalised embeddings, in [−1, 1]. */
  cosine: Float64Array;
  /** Squared L2 distance of the L2-normalised embeddings, in [0, 4] (= 2 − 2·cos up to rounding). */
  squaredL2: Float64Array;
}

/**
 * Scores of pairs (row i of A with row i of B) after L2-normalising every row, as insightface's verification.py:
 * normalise, then dist = Σ (e1 − e2)². In float64 throughout, as insightface (its embeddings are float64
 * numpy arrays), so a pair lands on the same side of a grid threshold.
 */
export function pairScores(embeddingsA: Float32Array, embeddingsB: Float32Array, dim: number): PairScores {
  const n = rowCount(embeddingsA, dim, 'embeddingsA');
  if (embeddingsB.length !== embeddingsA.length) {
    throw new Error(`embeddingsA has ${n} rows but embeddingsB has ${embeddingsB.length / dim}; pass one row of each per pair.`);
  }
  assertFinite(embeddingsA, 'embeddingsA');
  assertFinite(embeddingsB, 'embeddingsB');
  const cosine = new Float64Array(n);
  const squaredL2 = new Float64Array(n);
  const a = new Float64Array(dim);
  const b = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    unitRow(embeddingsA, i, dim, a);
    unitRow(embeddingsB, i, dim, b);
    let dot = 0;
    let dist = 0;
    for (let c = 0; c < dim; c++) {
      dot += a[c]! * b[c]!;
      dist += (a[c]! - b[c]!) ** 2;
    }
    cosine[i] = dot;
    squaredL2[i] = dist;
  }
  return { cosine, squaredL2 };
}

/** Row r of `data` divided by its L2 norm, in float64, into `out` (a zero row stays zero, as sklearn's normalize). */
function unitRow(data: Float32Array, r: number, dim: number, out: Float64Array): void {
  let ss = 0;
  for (let c = 0; c < dim; c++) ss += data[r * dim + c]! ** 2;
  const norm = Math.sqrt(ss);
  for (let c = 0; c < dim; c++) out[c] = norm > 0 ? data[r * dim + c]! / norm : 0;
}

export interface VerifyOptions {
  /** Embedding size (row length of A and B). */
  dim: number;
  /** Score the 10-fold accuracy uses (default 'l2', insightface's). Both give the same decisions on unit vectors. */
  metric?: VerificationMetric;
  /** Number of contiguous folds (default 10); ignored when `foldIds` is given. */
  folds?: number;
  /** Fold id of each pair (a pairs list's fold column), used instead of contiguous folds. */
  foldIds?: ArrayLike<number>;
  /** FARs for TAR@FAR (default 1e-1, 1e-2, 1e-3, 1e-4). */
  fars?: readonly number[];
  /** How TAR@FAR picks its operating point (default 'at-most'). */
  tarMode?: TarAtFarOptions['mode'];
}

export interface VerificationReport {
  pairs: number;
  genuine: number;
  impostor: number;
  /** insightface 10-fold accuracy (mean ± std, per-fold thresholds). */
  accuracy: VerificationResult;
  /** ROC on cosine similarity (higher = same); thresholds are cosines. */
  roc: RocCurve;
  auc: number;
  eer: number;
  /** Cosine threshold at the equal error rate. */
  eerThresholdCosine: number;
  tarAtFar: TarAtFar[];
  /** Threshold of best accuracy over all pairs, as a cosine similarity. */
  bestThresholdCosine: number;
  /** Cosine similarity of each pair (for score histograms). */
  scores: Float64Array;
  issame: boolean[];
}

/**
 * Everything a verification set gives: insightface's 10-fold accuracy plus ROC, AUC, EER and TAR@FAR. Rows are
 * L2-normalised first (as insightface does after the flip sum), so embeddings from any source compare fairly.
 */
export function verify(
  embeddingsA: Float32Array,
  embeddingsB: Float32Array,
  issame: ArrayLike<boolean>,
  opts: VerifyOptions,
): VerificationReport {
  const metric = opts.metric ?? 'l2';
  const { cosine, squaredL2 } = pairScores(embeddingsA, embeddingsB, opts.dim);
  if (issame.length !== cosine.length) {
    throw new Error(`verify: ${cosine.length} embedding pairs but ${issame.length} issame labels; pass one label per pair.`);
  }
  const labels = Array.from(issame, Boolean);
  const accuracy = verificationAccuracy(metric === 'l2' ? squaredL2 : cosine, labels, {
    metric,
    folds: opts.folds ?? 10,
    ...(opts.foldIds ? { foldIds: opts.foldIds } : {}),
  });
  const roc = rocCurve(cosine, labels, true);
  const eer = equalErrorRate(roc);
  return {
    pairs: cosine.length,
    genuine: roc.genuine,
    impostor: roc.impostor,
    accuracy,
    roc,
    auc: areaUnderRoc(roc),
    eer: eer.eer,
    eerThresholdCosine: eer.threshold,
    tarAtFar: tarAtFar(roc, opts.fars ?? DEFAULT_FARS, { mode: opts.tarMode ?? 'at-most' }),
    bestThresholdCosine: accuracy.bestThresholdCosine,
    scores: cosine,
    issame: labels,
  };
}
