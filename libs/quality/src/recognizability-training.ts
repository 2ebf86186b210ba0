// RER's training additions (Chai et al., CVPR 2023; theory.md §3.1/§3.3), to be added to the classification loss:
//   L = L_cls + α·L_RI + β·L_ID + γ·L_PAM
//   L_RI  = SmoothL1_β(ξ̂_i, ξ_i)                 RI head regressed onto the RI target (no gradient through ξ);
//           the UI images' target is 0 by default (unrecognizable by construction; option uiTarget)
//   L_ID  = Σ_i w_i·max(0, μ_UI + τ − d_i) / Σ_i w_i,  w_i = 1 − ξ_i
//           'embedding' (default): d_i = 1 − cos(v_i, f_UI) and μ_UI = the UI cluster's radius (mean d of UI images):
//             low-RI embeddings are pushed out of the UI cluster by at least τ (the issue's reading);
//           'index': d_i = ξ̂_i and μ_UI = mean ξ̂ of UI images (the §3.3 proxy's reading of "a deviation of at
//             least τ between ξ̂_i and μ_UI").
//   L_PAM = mean_i ‖v̂_attn,i − v̇_i‖²,  v̇ = normalize(v̂ − (v̂·f_UI) f_UI)   (§3.3: the embedding with its UI component
//           removed, no gradient), v_attn from the perceptibility attention over the last feature map.
// The UI centre follows the model: every step's unrecognizable images (degraded copies of batch images, see
// unrecognizableBatch) update an exponential moving average of their normalised mean, committed in afterStep() so
// that a skipped (non-finite) step leaves no trace.
import { classCosines } from '@facet/heads';
import { tf } from '@facet/engine';
import { PerceptibilityAttention } from './perceptibility-attention.js';
import { RecognizabilityHead } from './recognizability-head.js';
import { classCriterion, resolveIndexOptions, uiCriterion, type RecognizabilityIndexOptions } from './recognizability-index.js';
import type { QualityModel } from './quality-model.js';
import { smoothL1Loss } from './smooth-l1.js';

export type DiversionTarget = 'embedding' | 'index';

export interface RecognizabilityTrainingOptions {
  embeddingSize: number;
  /** Channels of the backbone's last feature map (featureMapShape(backbone)[2]); needed when attentionWeight > 0. */
  featureChannels?: number;
  /** α, weight of the RI regression. Default 1. */
  regressionWeight?: number;
  /** β, weight of the index-diversion loss. Default 1. */
  diversionWeight?: number;
  /** γ, weight of the perceptibility-attention loss. Default 1. */
  attentionWeight?: number;
  /** τ, the diversion margin (in 1 − cos units for 'embedding', RI units for 'index'). Default 0.3. */
  margin?: number;
  /** What the diversion hinge acts on. Default 'embedding'. */
  diversion?: DiversionTarget;
  /** β of the Smooth-L1 regression. Default 0.75 (theory.md §3.1). */
  smoothL1Beta?: number;
  /** Dropout of the RI head. Default 0.4. */
  headDropout?: number;
  /** Hidden width of the attention's scoring convolutions. Default max(8, C/4). */
  attentionHidden?: number;
  /** EMA momentum of the UI centre and radius. Default 0.9. */
  uiMomentum?: number;
  /** Unrecognizable images a trainer should append to each batch (see unrecognizableBatch). Default 8. */
  uiImagesPerBatch?: number;
  /**
   * RI target of the unrecognizable (UI) images: a number (default 0: unrecognizable by construction), or 'index'
   * to score them with the RI formula like any face (their class term is then ≥ 0.5, since without a label the
   * positive is the nearest prototype).
   */
  uiTarget?: number | 'index';
  /** Sub-centres per class in the prototypes (class cosine = max over them). Default 1. */
  subCenters?: number;
  /** Constants of the RI target. */
  index?: RecognizabilityIndexOptions;
  seed?: number;
}

export interface RecognizabilityLossInputs {
  /** Raw embeddings [B, D] of the labelled batch, inside the gradient tape. */
  embeddings: tf.Tensor2D;
  labels: Int32Array;
  /** Class prototypes: the margin head's centres [C, D] or [C, K, D] (tensor or host floats). No gradient is taken. */
  prototypes: tf.Tensor | Float32Array;
  /** Raw embeddings [U, D] of unrecognizable images from the same forward pass. */
  uiEmbeddings?: tf.Tensor2D;
  /** Last feature map [B(+U), h, w, C] (captureFeatures().featureMap()); its first B rows are used. */
  featureMap?: tf.Tensor4D;
}

export interface RecognizabilityLossParts {
  regression: number;
  diversion: number;
  attention: number;
  /** α·L_RI + β·L_ID + γ·L_PAM. */
  total: number;
  /** Mean RI target ξ of the labelled rows, and of the UI rows. */
  meanIndex: number;
  meanUiIndex: number | null;
  /** Mean predicted ξ̂ of the labelled rows. */
  meanPredicted: number;
  /** Mean cos(v, f_UI) of the labelled rows and of the UI rows. */
  meanCosUi: number;
  meanUiCosUi: number | null;
}

export interface RecognizabilityState {
  kind: 'recognizability';
  arrays: Record<string, Float32Array>;
  meta: Record<string, unknown>;
}

const DEFAULTS = {
  regressionWeight: 1,
  diversionWeight: 1,
  attentionWeight: 1,
  margin: 0.3,
  diversion: 'embedding' as DiversionTarget,
  smoothL1Beta: 0.75,
  headDropout: 0.4,
  uiMomentum: 0.9,
  uiImagesPerBatch: 8,
  uiTarget: 0 as number | 'index',
  subCenters: 1,
  seed: 2048,
};

export const RECOGNIZABILITY_TRAINING_DEFAULTS: Readonly<typeof DEFAULTS> = DEFAULTS;

function resolveOptions(o: RecognizabilityTrainingOptions) {
  if (o == null || typeof o !== 'object') throw new Error('RecognizabilityTraining: options { embeddingSize, ... } are required.');
  const r = { ...DEFAULTS, ...o };
  const bad = (msg: string): never => {
    throw new Error(`RecognizabilityTraining: ${msg}`);
  };
  if (!Number.isInteger(r.embeddingSize) || r.embeddingSize < 1) bad(`embeddingSize must be a positive integer (got ${String(r.embeddingSize)}).`);
  for (const k of ['regressionWeight', 'diversionWeight', 'attentionWeight', 'margin'] as const) {
    if (!(typeof r[k] === 'number' && r[k] >= 0 && Number.isFinite(r[k]))) bad(`${k} must be a finite number ≥ 0 (got ${String(r[k])}).`);
  }
  if (!(r.smoothL1Beta > 0)) bad(`smoothL1Beta must be > 0 (got ${r.smoothL1Beta}).`);
  if (!(r.uiMomentum >= 0 && r.uiMomentum < 1)) bad(`uiMomentum must be in [0, 1) (got ${r.uiMomentum}).`);
  if (!Number.isInteger(r.uiImagesPerBatch) || r.uiImagesPerBatch < 0) bad(`uiImagesPerBatch must be an integer ≥ 0 (got ${r.uiImagesPerBatch}).`);
  if (r.uiTarget !== 'index' && !(typeof r.uiTarget === 'number' && r.uiTarget >= 0 && r.uiTarget <= 1)) bad(`uiTarget must be a number in [0, 1] or 'index' (got ${String(r.uiTarget)}).`);
  if (!Number.isInteger(r.subCenters) || r.subCenters < 1) bad(`subCenters must be a positive integer (got ${r.subCenters}).`);
  if (r.diversion !== 'embedding' && r.diversion !== 'index') bad(`diversion must be 'embedding' or 'index' (got ${String(r.diversion)}).`);
  if (r.attentionWeight > 0 && !(Number.isInteger(r.featureChannels) && r.featureChannels! > 0)) {
    bad('featureChannels (channels of the last feature map, featureMapShape(backbone)[2]) is required when attentionWeight > 0; or set attentionWeight 0.');
  }
  return { ...r, index: resolveIndexOptions(o.index, 'RecognizabilityTraining') };
}

function unit(v: Float64Array | number[]): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  return Float64Array.from(v, (x) => (n > 1e-12 ? x / n : 0));
}

export class RecognizabilityTraining {
  readonly options: ReturnType<typeof resolveOptions>;
  readonly head: RecognizabilityHead;
  readonly attention: PerceptibilityAttention | undefined;
  private center: Float64Array | undefined;
  private radius: number | undefined;
  private uiIndex: number | undefined;
  private pending: { center: Float64Array; radius: number; uiIndex: number } | undefined;
  private parts: RecognizabilityLossParts | undefined;
  private steps = 0;

  constructor(options: RecognizabilityTrainingOptions) {
    this.options = resolveOptions(options);
    const o = this.options;
    this.head = new RecognizabilityHead({ embeddingSize: o.embeddingSize, dropout: o.headDropout, seed: o.seed });
    try {
      this.attention =
        o.attentionWeight > 0
          ? new PerceptibilityAttention({
              channels: o.featureChannels!,
              embeddingSize: o.embeddingSize,
              seed: o.seed + 17,
              ...(o.attentionHidden !== undefined ? { hidden: o.attentionHidden } : {}),
            })
          : undefined;
    } catch (e) {
      this.head.dispose();
      throw e;
    }
  }

  /** Trainable variables (RI head, then attention); train them with the backbone's optimizer. */
  variables(): tf.Variable[] {
    return [...this.head.variables(), ...(this.attention?.variables() ?? [])];
  }

  /** The current UI centre (unit, float32), if one exists yet. */
  uiCenter(): Float32Array | undefined {
    return this.center ? Float32Array.from(this.center) : undefined;
  }

  /** Start from a known UI centre (e.g. built with uiCenter() on a pretrained model) instead of the first batch. */
  setUiCenter(center: ArrayLike<number>, stats: { radius?: number; uiIndex?: number } = {}): void {
    if (center.length !== this.options.embeddingSize) throw new Error(`setUiCenter: ${center.length} values for ${this.options.embeddingSize}-d embeddings.`);
    this.center = unit(Float64Array.from(center));
    if (stats.radius !== undefined) this.radius = stats.radius;
    if (stats.uiIndex !== undefined) this.uiIndex = stats.uiIndex;
  }

  /**
   * α·L_RI + β·L_ID + γ·L_PAM for one batch, inside the caller's gradient tape (add it to the classification loss).
   * Reads the forward's embeddings to the host once (targets carry no gradient).
   */
  loss(inputs: RecognizabilityLossInputs): tf.Scalar {
    const o = this.options;
    const { embeddings, labels, uiEmbeddings, featureMap } = inputs;
    const d = o.embeddingSize;
    if (embeddings.rank !== 2 || embeddings.shape[1] !== d) throw new Error(`RecognizabilityTraining.loss: embeddings [${embeddings.shape}] are not [B, ${d}].`);
    const b = embeddings.shape[0];
    if (labels.length !== b) throw new Error(`RecognizabilityTraining.loss: ${labels.length} labels for ${b} embeddings.`);
    if (uiEmbeddings && (uiEmbeddings.rank !== 2 || uiEmbeddings.shape[1] !== d)) throw new Error(`RecognizabilityTraining.loss: uiEmbeddings [${uiEmbeddings.shape}] are not [U, ${d}].`);
    const u = uiEmbeddings?.shape[0] ?? 0;
    if (!this.center && u === 0) {
      throw new Error('RecognizabilityTraining.loss: no UI centre yet; pass uiEmbeddings (embeddings of unrecognizableBatch images) or call setUiCenter() first.');
    }
    if (this.attention && !featureMap) throw new Error('RecognizabilityTraining.loss: attentionWeight > 0 needs the featureMap (captureFeatures().featureMap()).');
    const n = b + u;

    return tf.tidy(() => {
      const all = (u > 0 ? tf.concat([embeddings, uiEmbeddings!]) : embeddings) as tf.Tensor2D;
      // ---- host side: UI centre, RI targets (no gradient) ----
      const host = all.dataSync();
      const rows = Array.from({ length: n }, (_, i) => unit(Array.from(host.subarray(i * d, (i + 1) * d))));
      let center = this.center;
      if (u > 0) {
        const mean = new Float64Array(d);
        for (let i = b; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += rows[i]![k]!;
        const batchCenter = unit(mean);
        const m = o.uiMomentum;
        const next = center ? unit(center.map((c, k) => m * c + (1 - m) * batchCenter[k]!)) : batchCenter;
        center ??= batchCenter;
        this.pending = { center: next, radius: 0, uiIndex: 0 };
      }
      const cosUi = rows.map((r) => r.reduce((s, x, k) => s + x * center![k]!, 0));
      const protos = this.prototypeTensor(inputs.prototypes);
      const cos = tf.tidy(() => classCosines(tf.tensor2d(host, [n, d]), protos.tensor)).dataSync();
      if (protos.owned) protos.tensor.dispose();
      const c = cos.length / n;
      if (c < 2) throw new Error(`RecognizabilityTraining.loss: ${c} prototype class(es); the RI needs at least 2.`);
      const target = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const row = cos.subarray(i * c, (i + 1) * c);
        let pos: number;
        if (i < b) {
          pos = labels[i]!;
          if (!(pos >= 0 && pos < c)) throw new Error(`RecognizabilityTraining.loss: label ${pos} is outside the ${c} prototypes.`);
        } else {
          pos = 0;
          for (let j = 1; j < c; j++) if (row[j]! > row[pos]!) pos = j;
        }
        let neg = pos === 0 ? 1 : 0;
        for (let j = 0; j < c; j++) if (j !== pos && row[j]! > row[neg]!) neg = j;
        target[i] =
          i >= b && o.uiTarget !== 'index' ? o.uiTarget : uiCriterion(cosUi[i]!, o.index.uiScale) * classCriterion(row[pos]!, row[neg]!, o.index.sharpness);
      }

      // ---- L_RI ----
      const predicted = this.head.apply(all, true);
      const regression = smoothL1Loss(predicted, tf.tensor1d(target), o.smoothL1Beta);
      const predHost = predicted.dataSync();

      // UI statistics of this batch (for μ_UI and the EMA)
      let uiRadius: number | null = null;
      let uiPred: number | null = null;
      if (u > 0) {
        uiRadius = 0;
        uiPred = 0;
        for (let i = b; i < n; i++) {
          uiRadius += (1 - cosUi[i]!) / u;
          uiPred += predHost[i]! / u;
        }
        const m = o.uiMomentum;
        this.pending!.radius = this.radius === undefined ? uiRadius : m * this.radius + (1 - m) * uiRadius;
        this.pending!.uiIndex = this.uiIndex === undefined ? uiPred : m * this.uiIndex + (1 - m) * uiPred;
      }

      // ---- L_ID ----
      const weights = Float32Array.from(target.subarray(0, b), (x) => 1 - x);
      const weightSum = Math.max(1e-6, weights.reduce((s, x) => s + x, 0));
      const centerT = tf.tensor2d(Float32Array.from(center!), [d, 1]);
      const norm = tf.maximum(tf.norm(embeddings, 'euclidean', 1, true), 1e-12);
      const unitEmb = tf.div(embeddings, norm) as tf.Tensor2D;
      let diversionInput: tf.Tensor1D;
      let mu: number;
      if (o.diversion === 'embedding') {
        diversionInput = tf.sub(1, tf.reshape(tf.matMul(unitEmb, centerT), [b])) as tf.Tensor1D;
        mu = this.radius ?? uiRadius ?? 0;
      } else {
        diversionInput = tf.slice(predicted, [0], [b]);
        mu = this.uiIndex ?? uiPred ?? 0;
      }
      const hinge = tf.relu(tf.sub(mu + o.margin, diversionInput));
      const diversion = tf.div(tf.sum(tf.mul(hinge, tf.tensor1d(weights))), weightSum) as tf.Scalar;

      // ---- L_PAM ----
      let attention: tf.Scalar = tf.scalar(0);
      if (this.attention && featureMap) {
        if (featureMap.shape[0] < b) throw new Error(`RecognizabilityTraining.loss: the feature map has ${featureMap.shape[0]} rows for ${b} embeddings.`);
        const map = (featureMap.shape[0] === b ? featureMap : tf.slice(featureMap, [0, 0, 0, 0], [b, -1, -1, -1])) as tf.Tensor4D;
        const { embedding } = this.attention.apply(map);
        const attended = tf.div(embedding, tf.maximum(tf.norm(embedding, 'euclidean', 1, true), 1e-12));
        const projected = new Float32Array(b * d);
        for (let i = 0; i < b; i++) {
          const away = unit(rows[i]!.map((x, k) => x - cosUi[i]! * center![k]!));
          projected.set(away, i * d);
        }
        attention = tf.mean(tf.sum(tf.square(tf.sub(attended, tf.tensor2d(projected, [b, d]))), 1)) as tf.Scalar;
      }

      const total = tf.addN([tf.mul(o.regressionWeight, regression), tf.mul(o.diversionWeight, diversion), tf.mul(o.attentionWeight, attention)]) as tf.Scalar;
      const [rv, dv, av, tv] = [regression, diversion, attention, total].map((t) => t.dataSync()[0]!);
      const mean = (a: ArrayLike<number>, lo: number, hi: number) => {
        let s = 0;
        for (let i = lo; i < hi; i++) s += a[i]!;
        return s / (hi - lo);
      };
      this.parts = {
        regression: rv!,
        diversion: dv!,
        attention: av!,
        total: tv!,
        meanIndex: mean(target, 0, b),
        meanUiIndex: u > 0 ? mean(target, b, n) : null,
        meanPredicted: mean(predHost, 0, b),
        meanCosUi: mean(cosUi, 0, b),
        meanUiCosUi: u > 0 ? mean(cosUi, b, n) : null,
      };
      return total;
    });
  }

  private prototypeTensor(p: tf.Tensor | Float32Array): { tensor: tf.Tensor2D | tf.Tensor3D; owned: boolean } {
    const d = this.options.embeddingSize;
    const k = this.options.subCenters;
    if (p instanceof Float32Array) {
      if (p.length === 0 || p.length % (k * d) !== 0) throw new Error(`RecognizabilityTraining.loss: ${p.length} prototype values are not whole [C, ${k > 1 ? `${k}, ` : ''}${d}] rows.`);
      const c = p.length / (k * d);
      return { tensor: k > 1 ? tf.tensor3d(p, [c, k, d]) : tf.tensor2d(p, [c, d]), owned: true };
    }
    if (!(p instanceof tf.Tensor) || (p.rank !== 2 && p.rank !== 3) || p.shape[p.rank - 1] !== d) {
      throw new Error(`RecognizabilityTraining.loss: prototypes must be [C, ${d}] or [C, K, ${d}] (got ${p instanceof tf.Tensor ? `[${p.shape}]` : typeof p}).`);
    }
    return { tensor: p as tf.Tensor2D | tf.Tensor3D, owned: false };
  }

  /** The parts of the last loss() (for logging). */
  lastParts(): RecognizabilityLossParts | undefined {
    return this.parts;
  }

  /** Commit the UI-centre update of the last loss() (call after an applied optimizer step; skip it for a skipped step). */
  afterStep(): void {
    if (this.pending) {
      this.center = this.pending.center;
      this.radius = this.pending.radius;
      this.uiIndex = this.pending.uiIndex;
      this.pending = undefined;
    }
    this.steps++;
  }

  /** What to store with the model (saveQualityModel): UI centre and radius, the RI head, the RI constants. */
  qualityModel(): QualityModel {
    return {
      embeddingSize: this.options.embeddingSize,
      ...(this.center ? { uiCenter: Float32Array.from(this.center) } : {}),
      ...(this.radius !== undefined ? { uiRadius: this.radius } : {}),
      uiSource: 'training (EMA of degraded batch images)',
      head: this.head.toJSON(),
      index: this.options.index,
    };
  }

  /** Host state for checkpoints (variables are saved by the trainer with the other head variables). */
  getState(): RecognizabilityState {
    return {
      kind: 'recognizability',
      arrays: this.center ? { uiCenter: Float32Array.from(this.center) } : {},
      meta: { radius: this.radius ?? null, uiIndex: this.uiIndex ?? null, steps: this.steps, headDraws: this.head.draws },
    };
  }

  setState(s: RecognizabilityState): void {
    if (s?.kind !== 'recognizability') throw new Error(`RecognizabilityTraining.setState: checkpoint state is ${String(s?.kind)}, expected recognizability.`);
    const c = s.arrays.uiCenter;
    if (c) this.setUiCenter(c);
    else this.center = undefined;
    this.radius = typeof s.meta.radius === 'number' ? s.meta.radius : undefined;
    this.uiIndex = typeof s.meta.uiIndex === 'number' ? s.meta.uiIndex : undefined;
    this.steps = typeof s.meta.steps === 'number' ? s.meta.steps : 0;
    if (typeof s.meta.headDraws === 'number') this.head.draws = s.meta.headDraws;
    this.pending = undefined;
  }

  dispose(): void {
    this.head.dispose();
    this.attention?.dispose();
  }
}
