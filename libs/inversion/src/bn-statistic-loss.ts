// The BatchNorm statistic prior (ArcFace TPAMI §3.3, Eq. 8; DeepInversion's feature-distribution regulariser).
// A trained network stores, in every BN layer, the per-channel mean and variance of the activations that real
// faces produce there. An image whose activations have the same batch statistics "looks like" the training data
// to the network. The model itself runs BN in inference mode (running statistics), so the forward is the deployed
// network; the prior only *reads* each BN input and compares its batch statistics with the stored ones.
import type { Backbone, BatchNormLayer } from '@facet/backbones';
import { tf } from '@facet/engine';

/**
 * - `paper` (ArcFace Eq. 8, the default): Σ_l ‖μ̃_l − μ_l‖₂² + ‖σ̃_l − σ_l‖₂², squared norms of the mean and the
 *   standard deviation differences.
 * - `deepinversion` (DeepInversion `r_feature`): Σ_l ‖μ̃_l − μ_l‖₂ + ‖σ̃²_l − σ²_l‖₂, plain norms of the mean and
 *   the *variance* differences.
 */
export type BnStatisticForm = 'paper' | 'deepinversion';

export interface BnStatisticOptions {
  /** Default 'paper'. */
  form?: BnStatisticForm;
  /**
   * Weight of the first BN layer (the one nearest the pixels), the others weigh 1. Default 1 (the ArcFace paper
   * weights all layers alike); DeepInversion uses 10 (`first_bn_multiplier`), which pushes low-level colour and
   * contrast statistics harder.
   */
  firstLayerMultiplier?: number;
  /**
   * Whether BN1d layers (statistics over the batch axis only: the embedding BN of IResNet/MobileFaceNet/ViT) take
   * part. 'auto' (default): only for batches of ≥ BN1D_MIN_BATCH (64) images. A BN1d statistic is taken over one
   * value per image, so over N images its mean has a standard error of σ/√N per channel: over the paper's 256
   * identities that is small, over a CPU batch of 8 targets it measures which targets were picked (and pulls
   * against them) rather than whether the images look natural. BN2d layers pool over N·H·W values.
   */
  include1d?: boolean | 'auto';
}

export interface ResolvedBnStatisticOptions {
  form: BnStatisticForm;
  firstLayerMultiplier: number;
  include1d: boolean | 'auto';
}

export const DEFAULT_BN_STATISTIC_OPTIONS: ResolvedBnStatisticOptions = { form: 'paper', firstLayerMultiplier: 1, include1d: 'auto' };

/** Smallest batch for which 'auto' includes BN1d layers (see BnStatisticOptions.include1d). */
export const BN1D_MIN_BATCH = 64;

/** Keeps ‖·‖₂ differentiable at 0 (d√u/du is infinite there); far below float32 resolution of any real term. */
const NORM_EPS = 1e-12;

export function resolveBnStatisticOptions(opts: BnStatisticOptions = {}): ResolvedBnStatisticOptions {
  const form = opts.form ?? 'paper';
  if (form !== 'paper' && form !== 'deepinversion') throw new Error(`bnStatistic form "${String(form)}" is not one of paper, deepinversion.`);
  const firstLayerMultiplier = opts.firstLayerMultiplier ?? 1;
  if (!(Number.isFinite(firstLayerMultiplier) && firstLayerMultiplier >= 0)) {
    throw new Error(`bnStatistic firstLayerMultiplier=${String(firstLayerMultiplier)} must be a finite number ≥ 0 (1 = like the other layers).`);
  }
  const include1d = opts.include1d ?? 'auto';
  if (include1d !== 'auto' && typeof include1d !== 'boolean') throw new Error(`bnStatistic include1d must be true, false or 'auto'.`);
  return { form, firstLayerMultiplier, include1d };
}

/** √(Σu² + ε): the L2 norm, differentiable at 0. */
function l2norm(u: tf.Tensor): tf.Scalar {
  return tf.sqrt(tf.add(tf.sum(tf.square(u)), NORM_EPS)) as tf.Scalar;
}

/**
 * The statistic distance r_l of one BN layer's input a ([N,H,W,C] → statistics over N,H,W; [N,C] → over N), with
 * the biased batch variance (as BN normalises with it) and σ = √(var + eps) on both sides, as the layer computes it.
 */
export function bnLayerStatisticDistance(layer: BatchNormLayer, input: tf.Tensor, form: BnStatisticForm = 'paper'): tf.Scalar {
  return tf.tidy(() => {
    const axes = input.rank === 4 ? [0, 1, 2] : input.rank === 2 ? [0] : null;
    if (!axes) throw new Error(`BN layer ${layer.name}: input of rank ${input.rank}; expected [N,H,W,C] or [N,C].`);
    const { mean, variance } = tf.moments(input, axes);
    const dMean = tf.sub(mean, layer.runningMean);
    if (form === 'paper') {
      const dStd = tf.sub(tf.sqrt(tf.add(variance, layer.eps)), tf.sqrt(tf.add(layer.runningVar, layer.eps)));
      return tf.add(tf.sum(tf.square(dMean)), tf.sum(tf.square(dStd))) as tf.Scalar;
    }
    return tf.add(l2norm(dMean), l2norm(tf.sub(variance, layer.runningVar))) as tf.Scalar;
  });
}

export interface BnStatisticForward {
  /** The model's raw embedding [N, D] (BN in inference mode). */
  embedding: tf.Tensor2D;
  /** Σ_l w_l·r_l over the layers that took part. */
  loss: tf.Scalar;
  /** How many BN layers took part. */
  layers: number;
}

/**
 * One inference-mode forward that also returns the BN statistic loss of the batch x ([N,S,S,3], normalised pixels).
 * Differentiable w.r.t. x; call it inside a gradient tape / tf.tidy (the caller owns the returned tensors).
 */
export function forwardWithBnStatistics(model: Backbone, x: tf.Tensor4D, opts: BnStatisticOptions = {}): BnStatisticForward {
  const o = resolveBnStatisticOptions(opts);
  const batch = x.shape[0];
  const use1d = o.include1d === 'auto' ? batch >= BN1D_MIN_BATCH : o.include1d;
  const terms: tf.Scalar[] = [];
  let index = 0;
  const embedding = model.apply(x, {
    training: false,
    onBatchNorm: (layer, input) => {
      const first = index++ === 0;
      if (input.rank === 2 && !use1d) return;
      const r = bnLayerStatisticDistance(layer, input, o.form);
      terms.push(first && o.firstLayerMultiplier !== 1 ? tf.mul(r, o.firstLayerMultiplier) : r);
    },
  });
  if (index === 0) throw new Error(`model ${model.name} has no BatchNorm layer: the BN statistic prior needs one (use --no-bn-prior).`);
  // intermediates stay in the caller's scope (a gradient tape may still need them)
  const loss = terms.length ? (tf.addN(terms) as tf.Scalar) : tf.scalar(0);
  return { embedding, loss, layers: terms.length };
}

/**
 * The BN statistic loss of a batch on its own: Σ_l w_l·r_l (see BnStatisticForm). x is [N,S,S,3] in the model's
 * normalised pixel space ((p − 127.5)/127.5).
 */
export function bnStatisticLoss(model: Backbone, x: tf.Tensor4D, opts: BnStatisticOptions = {}): tf.Scalar {
  return tf.tidy(() => forwardWithBnStatistics(model, x, opts).loss) as tf.Scalar;
}
