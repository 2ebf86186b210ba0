// `--recognizability`: RER's training additions (libs/quality, theory.md §3) wired into the single-thread loop.
// Every step appends U unrecognizable images (degraded copies of batch images) to the batch, runs one forward
// that also captures the last feature map, and adds α·L_RI + β·L_ID + γ·L_PAM to the margin loss; the class
// prototypes are the margin head's centres that Partial FC sampled for this step (every positive class of the batch
// plus negatives: the same set its softmax sees), so a step reads n·K·D floats, not the whole store — what keeps the
// disk-backed store and large class counts cheap. At r = 1 that is every class. At the end the RI head is calibrated on the final model's inference
// embeddings and stored with it (model/quality.json), which is what `facet quality` reads.
import type { Backbone } from '@facet/backbones';
import { augment, makeRng, mixSeed, type Batch, type FaceDataset } from '@facet/data';
import { tf } from '@facet/engine';
import {
  calibrateRecognizability,
  captureFeatures,
  featureMapShape,
  RecognizabilityTraining,
  saveQualityModel,
  unrecognizableBatch,
  unrecognizableImages,
  type RecognizabilityLossParts,
  type RecognizabilityState,
} from '@facet/quality';
import { batchNormFrozen, ConfigError, type TrainConfig } from './config.js';
import { augmentFor } from './datasets.js';
import type { Objective } from './objectives.js';

/** What the RI loss reads of Partial FC: the classes sampled by the last forward and row access to the store. */
export interface SampledCenterSource {
  lastSampledClasses(): Int32Array | undefined;
  readonly store: { gatherRows(indices: ArrayLike<number>): Float32Array };
}

/**
 * The centres Partial FC sampled in its last forward ([n, K, D] row-major, sorted by class) and the batch labels as
 * positions among them. Partial FC always samples every positive class of the batch, so each label is found.
 */
export function sampledPrototypes(pfc: SampledCenterSource, labels: ArrayLike<number>): { prototypes: Float32Array; labels: Int32Array } {
  const sampled = pfc.lastSampledClasses();
  if (!sampled) throw new Error('sampledPrototypes: Partial FC has not run a forward yet; call the margin loss first.');
  const position = new Map<number, number>();
  sampled.forEach((c, i) => position.set(c, i));
  const remapped = Int32Array.from(labels, (y) => {
    const p = position.get(y);
    if (p === undefined) throw new Error(`sampledPrototypes: class ${y} of the batch was not sampled; Partial FC must sample every positive class.`);
    return p;
  });
  return { prototypes: pfc.store.gatherRows(sampled), labels: remapped };
}

/** Images of the training set used to calibrate the RI head at the end, and unrecognizable images made from them. */
const CALIBRATION_IMAGES = 512;
const CALIBRATION_UI_IMAGES = 256;

export interface RecognizabilityAddition {
  /** Unrecognizable images appended to every batch (the memory estimate counts them). */
  readonly extraImages: number;
  variables(): tf.Variable[];
  /** Margin loss + the RER terms for one batch, inside the caller's gradient tape. */
  loss(batch: Batch, step: number): tf.Scalar;
  /** Commit the UI-centre update (after an applied step only). */
  afterStep(): void;
  lastParts(): RecognizabilityLossParts | undefined;
  getState(): RecognizabilityState;
  setState(s: RecognizabilityState): void;
  /** Calibrate the RI head on the final model and write model/quality.json. */
  exportQualityModel(modelDir: string, dataset: FaceDataset): Promise<{ fitLoss: number }>;
  dispose(): void;
}

export function recognizabilityAddition(cfg: TrainConfig, backbone: Backbone, objective: Objective): RecognizabilityAddition {
  const pfc = objective.partialFC;
  if (!pfc) {
    throw new ConfigError(`--recognizability needs a margin head (its class centres are the RI's prototypes); this run's objective is ${objective.name}. Use --objective margin with --head arcface, cosface or combined`);
  }
  let featureChannels: number | undefined;
  if (cfg.riAttentionWeight > 0) {
    try {
      featureChannels = featureMapShape(backbone)[2];
    } catch {
      // no spatial BatchNorm to read a feature map from (ViT)
      throw new ConfigError(`--recognizability: the perceptibility attention needs a convolutional backbone's feature map and ${backbone.name} has none; pass --ri-attention-weight 0 or use an IResNet/MobileFaceNet`);
    }
  }
  const rer = new RecognizabilityTraining({
    embeddingSize: cfg.embeddingSize,
    ...(featureChannels !== undefined ? { featureChannels } : {}),
    regressionWeight: cfg.riRegressionWeight,
    diversionWeight: cfg.riDiversionWeight,
    attentionWeight: cfg.riAttentionWeight,
    margin: cfg.riMargin,
    uiImagesPerBatch: cfg.riUiImages,
    subCenters: cfg.subCenters,
    seed: cfg.seed,
  });
  const S = cfg.inputSize;
  const D = cfg.embeddingSize;
  const U = cfg.riUiImages;
  return {
    extraImages: U,
    variables: () => rer.variables(),
    loss(batch, step) {
      return tf.tidy(() => {
        const B = batch.labels.length;
        const ui = unrecognizableBatch(batch.images, S, U, mixSeed(cfg.seed, 0x7e7, step));
        const x = tf.concat([tf.tensor4d(batch.images, [B, S, S, 3]), tf.tensor4d(ui, [U, S, S, 3])]) as tf.Tensor4D;
        const cap = captureFeatures();
        const all = backbone.apply(x, { training: true, onBatchNorm: cap.onBatchNorm, frozenBatchNorm: batchNormFrozen(cfg) });
        const emb = tf.slice(all, [0, 0], [B, D]) as tf.Tensor2D;
        const classification = objective.loss(emb, batch.labels);
        const sampled = sampledPrototypes(pfc, batch.labels);
        const extra = rer.loss({
          embeddings: emb,
          labels: sampled.labels,
          prototypes: sampled.prototypes,
          uiEmbeddings: tf.slice(all, [B, 0], [U, D]) as tf.Tensor2D,
          ...(rer.attention ? { featureMap: cap.featureMap() } : {}),
        });
        return tf.add(classification, extra) as tf.Scalar;
      });
    },
    afterStep: () => rer.afterStep(),
    lastParts: () => rer.lastParts(),
    getState: () => rer.getState(),
    setState: (s) => rer.setState(s),
    async exportQualityModel(modelDir, dataset) {
      // the head was trained on training-mode embeddings of a moving backbone: refit it on the final model's
      // inference embeddings of augmented training images (the training augmentation) plus unrecognizable images
      const rng = makeRng(mixSeed(cfg.seed, 0xca1));
      const n = Math.min(CALIBRATION_IMAGES, dataset.size);
      const aug = augmentFor(cfg);
      const images: Uint8Array[] = [];
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const idx = Math.floor((i * dataset.size) / n);
        const img = await dataset.read(idx);
        images.push(aug ? augment(img, S, aug, rng) : img);
        labels[i] = dataset.labels[idx]!;
      }
      const uiImages = unrecognizableImages(images.slice(0, Math.min(n, CALIBRATION_UI_IMAGES)), S, { count: CALIBRATION_UI_IMAGES, seed: cfg.seed });
      const model = await calibrateRecognizability(backbone, {
        images,
        labels,
        prototypes: onePrototypePerClass(pfc.store.exportWeights(), cfg.subCenters, D),
        uiImages,
        uiSource: `${CALIBRATION_UI_IMAGES} degraded training images`,
      });
      await saveQualityModel(modelDir, model);
      return { fitLoss: model.fitLoss };
    },
    dispose: () => rer.dispose(),
  };
}

/**
 * [C, D] prototypes from [C, K, D] centres: the RI's calibration scores inference embeddings against one prototype
 * per class; with sub-centres (K > 1) that is the normalised mean of the class's unit sub-centres.
 */
function onePrototypePerClass(weights: Float32Array, k: number, d: number): Float32Array {
  if (k === 1) return weights;
  const c = weights.length / (k * d);
  const out = new Float32Array(c * d);
  for (let i = 0; i < c; i++) {
    const acc = new Float64Array(d);
    for (let j = 0; j < k; j++) {
      const row = weights.subarray((i * k + j) * d, (i * k + j + 1) * d);
      const n = Math.hypot(...row) || 1;
      for (let t = 0; t < d; t++) acc[t]! += row[t]! / n;
    }
    const n = Math.hypot(...acc) || 1;
    for (let t = 0; t < d; t++) out[i * d + t] = acc[t]! / n;
  }
  return out;
}
