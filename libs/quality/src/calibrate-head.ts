// Final calibration of the RI head on the trained backbone, in inference mode. During training the head sees
// training-mode embeddings (batch statistics, shifted by the unrecognizable images in each batch, behind dropout)
// from a backbone that keeps moving; `facet quality` scores inference-mode embeddings of the final model. So at
// the end the dense layer is fitted again, with the same Smooth-L1 objective and the same RI targets, on frozen
// inference embeddings of (augmented) training images and unrecognizable images. The backbone is not touched.
import type { Backbone } from '@facet/backbones';
import { embedForQuality, buildUiCenter } from './image-qualities.js';
import type { QualityModel } from './quality-model.js';
import type { RecognizabilityHeadWeights } from './recognizability-head.js';
import { recognizabilityIndex, resolveIndexOptions, type RecognizabilityIndexOptions } from './recognizability-index.js';
import { rowCount } from './vectors.js';

export interface HeadFitOptions {
  /** Full-batch Adam steps. Default 500. */
  steps?: number;
  /** Adam learning rate. Default 0.01. */
  learningRate?: number;
  /** β of the Smooth-L1 loss. Default 0.75. */
  smoothL1Beta?: number;
  /** L2 penalty on the weights (not the bias). Default 1e-4. */
  weightDecay?: number;
  /** Start from these weights (e.g. the jointly trained head). Default zeros. */
  init?: RecognizabilityHeadWeights;
}

/**
 * Fit ξ̂ = [v/√D, ‖v‖/√D]·w + b to `targets` by full-batch Smooth-L1 (+ L2 on w) with Adam, in float64 on the host,
 * on raw embeddings [N, D]. Returns the weights and the final loss.
 */
export function fitRecognizabilityHead(
  embeddings: ArrayLike<number>,
  targets: ArrayLike<number>,
  dim: number,
  opts: HeadFitOptions = {},
): { head: RecognizabilityHeadWeights; loss: number } {
  const n = rowCount('fitRecognizabilityHead', embeddings, dim);
  if (targets.length !== n) throw new Error(`fitRecognizabilityHead: ${targets.length} targets for ${n} embeddings.`);
  const steps = opts.steps ?? 500;
  const lr = opts.learningRate ?? 0.01;
  const beta = opts.smoothL1Beta ?? 0.75;
  const wd = opts.weightDecay ?? 1e-4;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`fitRecognizabilityHead: steps must be an integer ≥ 1 (got ${steps}).`);
  if (!(lr > 0)) throw new Error(`fitRecognizabilityHead: learningRate must be > 0 (got ${lr}).`);
  if (opts.init && opts.init.weight.length !== dim + 1) throw new Error(`fitRecognizabilityHead: init has ${opts.init.weight.length} weights, expected ${dim + 1}.`);
  // host float64: D + 1 parameters, a full-batch Smooth-L1 gradient in closed form, Adam (β₁ .9, β₂ .999, ε 1e-8)
  const p = dim + 1;
  const x = new Float64Array(n * p);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) {
      const v = embeddings[i * dim + k]! * scale;
      x[i * p + k] = v;
      sq += v * v;
    }
    x[i * p + dim] = Math.sqrt(sq);
  }
  const w = Float64Array.from({ length: p + 1 }, (_, k) => (opts.init ? (k < p ? opts.init.weight[k]! : opts.init.bias) : 0)); // last = bias
  const m = new Float64Array(p + 1);
  const v2 = new Float64Array(p + 1);
  const grad = new Float64Array(p + 1);
  const lossAt = (collect: boolean) => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let pred = w[p]!;
      for (let k = 0; k < p; k++) pred += x[i * p + k]! * w[k]!;
      const e = pred - targets[i]!;
      const a = Math.abs(e);
      loss += a < beta ? (0.5 * e * e) / beta : a - 0.5 * beta;
      if (collect) {
        const g = (a < beta ? e / beta : Math.sign(e)) / n;
        for (let k = 0; k < p; k++) grad[k]! += g * x[i * p + k]!;
        grad[p]! += g;
      }
    }
    let reg = 0;
    for (let k = 0; k < p; k++) {
      reg += wd * w[k]! * w[k]!;
      if (collect) grad[k]! += 2 * wd * w[k]!;
    }
    return loss / n + reg;
  };
  for (let t = 1; t <= steps; t++) {
    lossAt(true);
    for (let k = 0; k <= p; k++) {
      m[k] = 0.9 * m[k]! + 0.1 * grad[k]!;
      v2[k] = 0.999 * v2[k]! + 0.001 * grad[k]! * grad[k]!;
      w[k]! -= (lr * (m[k]! / (1 - 0.9 ** t))) / (Math.sqrt(v2[k]! / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  return { head: { embeddingSize: dim, weight: Array.from(w.subarray(0, p)), bias: w[p]! }, loss: lossAt(false) };
}

export interface CalibrateOptions {
  /** Training images (RGB uint8 at the model's size; augment them as in training, e.g. the lowres preset). */
  images: Uint8Array[];
  labels: ArrayLike<number>;
  /** Class prototypes [C, D] (the margin head's centres), row-major. */
  prototypes: Float32Array;
  /** Unrecognizable images: they define the UI centre and get the target uiTarget. */
  uiImages: Uint8Array[];
  /** Target of the UI images. Default 0. */
  uiTarget?: number;
  index?: RecognizabilityIndexOptions;
  fit?: HeadFitOptions;
  /** Description of the UI images for quality.json. */
  uiSource?: string;
  batchSize?: number;
}

/**
 * UI centre (inference mode) and a freshly fitted RI head for a trained backbone: the quality model to store with
 * it (saveQualityModel). `fitLoss` is the final Smooth-L1 of the fit.
 */
export async function calibrateRecognizability(backbone: Backbone, o: CalibrateOptions): Promise<QualityModel & { fitLoss: number }> {
  if (o.labels.length !== o.images.length) throw new Error(`calibrateRecognizability: ${o.labels.length} labels for ${o.images.length} images.`);
  const index = resolveIndexOptions(o.index, 'calibrateRecognizability');
  const uiTarget = o.uiTarget ?? 0;
  const d = backbone.embeddingSize;
  const ui = await buildUiCenter(backbone, o.uiImages, { ...(o.batchSize ? { batchSize: o.batchSize } : {}), source: o.uiSource ?? `${o.uiImages.length} images` });
  const train = await embedForQuality(backbone, o.images, { flip: false, ...(o.batchSize ? { batchSize: o.batchSize } : {}) });
  const uiEmb = await embedForQuality(backbone, o.uiImages, { flip: false, ...(o.batchSize ? { batchSize: o.batchSize } : {}) });
  const ri = recognizabilityIndex(train.raw, o.labels, o.prototypes, ui.uiCenter, index);
  const all = new Float32Array(train.raw.length + uiEmb.raw.length);
  all.set(train.raw);
  all.set(uiEmb.raw, train.raw.length);
  const targets = Float64Array.from({ length: o.images.length + o.uiImages.length }, (_, i) => (i < o.images.length ? ri.index[i]! : uiTarget));
  const fit = fitRecognizabilityHead(all, targets, d, o.fit);
  return { ...ui, head: fit.head, index, fitLoss: fit.loss };
}
