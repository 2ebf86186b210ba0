import { embedImages, type EmbeddingBatchResult } from './embed.js';
import { gallerySplit } from './gallery-split.js';
import { identification, type IdentificationResult } from './identification.js';
import type { EmbeddingSource } from './model.js';
import { gatherRows } from './rows.js';
import type { VerificationMetric } from './thresholds.js';
import type { FoldSource } from './kfold.js';
import type { VerificationFold } from './verification-accuracy.js';
import { verify, type VerificationReport } from './verify.js';

/** Pairs of face crops (structurally what @facet/data's loadBin / loadPairs return). */
export interface PairImages {
  name: string;
  /** RGB uint8 HWC at the model's input size; pair i = (imagesA[i], imagesB[i]). */
  imagesA: Uint8Array[];
  imagesB: Uint8Array[];
  issame: boolean[];
  /** Fold id of each pair when the pairs list has a fold column (@facet/data's loadPairs); else contiguous folds. */
  foldIds?: ArrayLike<number>;
}

/** A labelled image set read one image at a time (structurally @facet/data's FaceDataset). */
export interface LabelledImages {
  readonly size: number;
  readonly labels: Int32Array;
  read(index: number): Promise<Uint8Array>;
}

export interface EvaluateOptions {
  /** Flip test (default true). */
  flip?: boolean;
  batchSize?: number;
  metric?: VerificationMetric;
  folds?: number;
  fars?: readonly number[];
  onProgress?: (done: number, total: number) => void;
}

export interface PairsEvaluation {
  report: VerificationReport;
  /** Mean raw embedding norm (insightface's XNorm). */
  xnorm: number;
  /** Seconds spent embedding. */
  embedSeconds: number;
}

/**
 * insightface's .bin evaluation: embed every image of every pair (flip test by default), then `verify`.
 */
export async function evaluatePairs(model: EmbeddingSource, set: PairImages, opts: EvaluateOptions = {}): Promise<PairsEvaluation> {
  const n = set.issame.length;
  if (set.imagesA.length !== n || set.imagesB.length !== n) {
    throw new Error(`${set.name}: ${set.imagesA.length}/${set.imagesB.length} images for ${n} pairs; each pair needs two images.`);
  }
  const t0 = performance.now();
  const emb = await embedImages(model, [...set.imagesA, ...set.imagesB], {
    flip: opts.flip ?? true,
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const embedSeconds = (performance.now() - t0) / 1000;
  const a = emb.embeddings.subarray(0, n * emb.dim);
  const b = emb.embeddings.subarray(n * emb.dim);
  const report = verify(a, b, set.issame, {
    dim: emb.dim,
    ...(opts.metric ? { metric: opts.metric } : {}),
    ...(opts.folds ? { folds: opts.folds } : {}),
    ...(set.foldIds ? { foldIds: set.foldIds } : {}),
    ...(opts.fars ? { fars: opts.fars } : {}),
  });
  return { report, xnorm: emb.xnorm, embedSeconds };
}

/**
 * Embed a labelled image set batch by batch (only one batch of pixels in memory at a time).
 */
export async function embedDataset(
  model: EmbeddingSource,
  ds: LabelledImages,
  opts: Pick<EvaluateOptions, 'flip' | 'batchSize' | 'onProgress'> = {},
): Promise<EmbeddingBatchResult> {
  const batch = opts.batchSize ?? 64;
  let out = new Float32Array(0);
  let dim = 0;
  let normSum = 0;
  for (let start = 0; start < ds.size; start += batch) {
    const end = Math.min(ds.size, start + batch);
    const imgs = await Promise.all(Array.from({ length: end - start }, (_, k) => ds.read(start + k)));
    const part = await embedImages(model, imgs, { flip: opts.flip ?? true, batchSize: batch });
    if (dim === 0) {
      dim = part.dim;
      out = new Float32Array(ds.size * dim);
    }
    out.set(part.embeddings, start * dim);
    normSum += part.xnorm * part.count;
    opts.onProgress?.(end, ds.size);
  }
  return { embeddings: out, dim, count: ds.size, xnorm: ds.size ? normSum / ds.size : 0 };
}

export interface IdentificationEvaluation {
  result: IdentificationResult;
  /** Gallery and probe sample indices. */
  gallery: Int32Array;
  probes: Int32Array;
  /** Identities with a single sample: gallery-only distractors. */
  galleryOnlyClasses: number;
}

/**
 * 1:N identification on labelled embeddings: a seeded gallery/probe split (one gallery sample per identity by
 * default), then rank-k and CMC.
 */
export function evaluateIdentification(
  embeddings: Float32Array,
  labels: Int32Array,
  dim: number,
  opts: { seed?: number; galleryPerClass?: number; ranks?: number[] } = {},
): IdentificationEvaluation {
  const split = gallerySplit(labels, { seed: opts.seed ?? 0, galleryPerClass: opts.galleryPerClass ?? 1 });
  if (split.probes.length === 0) {
    throw new Error(`no identity has more than ${opts.galleryPerClass ?? 1} image(s), so there are no probes; identification needs ≥ 2 images for some identities.`);
  }
  const pick = (idx: Int32Array) => ({ embeddings: gatherRows(embeddings, dim, idx), labels: Int32Array.from(idx, (i) => labels[i]!) });
  const result = identification(pick(split.gallery), pick(split.probes), opts.ranks ? { ranks: opts.ranks } : {});
  return { result, gallery: split.gallery, probes: split.probes, galleryOnlyClasses: split.galleryOnlyClasses };
}

/** One row of an evaluation table, plain JSON (no typed arrays). */
export interface VerificationSummary {
  set: string;
  pairs: number;
  genuine: number;
  impostor: number;
  accuracy: number;
  std: number;
  auc: number;
  eer: number;
  tarAtFar: Array<{ far: number; tar: number | null; note: string }>;
  bestThresholdCosine: number;
  folds: VerificationFold[];
  /** 'file': the pairs list's fold column; 'contiguous': insightface's split of the pair order. */
  foldSource: FoldSource;
  foldCount: number;
  metric: VerificationMetric;
  xnorm?: number;
}

/** The JSON-friendly headline of a verification report. */
export function summarizeVerification(set: string, report: VerificationReport, extra: { xnorm?: number } = {}): VerificationSummary {
  return {
    set,
    pairs: report.pairs,
    genuine: report.genuine,
    impostor: report.impostor,
    accuracy: report.accuracy.accuracy,
    std: report.accuracy.std,
    auc: report.auc,
    eer: report.eer,
    tarAtFar: report.tarAtFar.map((t) => ({ far: t.far, tar: t.tar, note: t.note })),
    bestThresholdCosine: report.bestThresholdCosine,
    folds: report.accuracy.folds,
    foldSource: report.accuracy.foldSource,
    foldCount: report.accuracy.foldCount,
    metric: report.accuracy.metric,
    ...(extra.xnorm !== undefined ? { xnorm: extra.xnorm } : {}),
  };
}
