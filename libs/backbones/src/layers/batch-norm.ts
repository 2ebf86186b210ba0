// PyTorch BatchNorm2d / BatchNorm1d on NHWC (or [N, C]) tensors.
// Training (Ioffe & Szegedy 2015, Alg. 1): y = γ·(x − μ_B)/√(σ²_B + ε) + β with the *biased* batch variance σ²_B;
// running stats: r ← (1 − momentum)·r + momentum·s, where s uses the *unbiased* variance σ²_B·n/(n − 1)
// (torch.nn.functional.batch_norm). Inference: μ, σ² = running stats.
// Written as y = x·a + c with per-channel a = γ/√(σ² + ε), c = β − μ·a: two full-size ops, foldable into the
// preceding convolution later.
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, tf } from '@facet/engine';
import { constant } from '../init.js';
import type { ForwardContext, NetworkBuilder } from '../network.js';
import type { BatchNormLayer, BatchStatsAllReduce } from '../types.js';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  /** insightface's IResNet embedding BN1d: γ fixed at 1 and excluded from training. */
  frozenWeight?: boolean;
}

export interface BatchNorm {
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

export function batchNorm(b: NetworkBuilder, name: string, channels: number, o: BatchNormOptions = {}): BatchNorm {
  const eps = o.eps ?? 1e-5;
  const momentum = o.momentum ?? 0.1;
  b.param(`${name}.weight`, [channels], constant(1), { trainable: !o.frozenWeight });
  b.param(`${name}.bias`, [channels], constant(0));
  b.param(`${name}.running_mean`, [channels], constant(0), { buffer: true });
  b.param(`${name}.running_var`, [channels], constant(1), { buffer: true });
  b.batchNorms.push({ name, channels, eps, momentum });
  return { apply: (x, ctx) => applyBatchNorm(ctx, name, x) };
}

export function applyBatchNorm(ctx: ForwardContext, name: string, x: tf.Tensor): tf.Tensor {
  const layer = ctx.batchNorm(name);
  ctx.onBatchNorm?.(layer, x);
  const axes = x.rank === 2 ? [0] : [0, 1, 2];
  if (ctx.training && !ctx.frozenBatchNorm) {
    const n = x.size / layer.channels;
    if (n < 2) {
      throw new Error(
        `BatchNorm ${name}: training needs more than one value per channel (got ${x.shape.join('×')}); use a batch of at least 2`,
      );
    }
    if (ctx.fusedBatchNorm && ctx.batchStatsAllReduce) return syncedTrainingBatchNorm(layer, axes, n, ctx.batchStatsAllReduce)(x, layer.weight, layer.bias);
    if (ctx.fusedBatchNorm) return trainingBatchNorm(layer, axes, n)(x, layer.weight, layer.bias);
    const { mean, variance } = tf.moments(x, axes);
    updateRunningStats(layer, mean, variance, n);
    return normalizeWithStats(x, layer.weight, layer.bias, mean, variance, layer.eps).y;
  }
  // inference (or frozen BN while training): a per-channel affine map of the running statistics (plain ops:
  // differentiable w.r.t. x for inversion, and w.r.t. γ/β for fine-tuning)
  return normalizeWithStats(x, layer.weight, layer.bias, layer.runningMean, layer.runningVar, layer.eps).y;
}

/** y = x·a + c with a = γ·s, c = β − μ·a, s = 1/√(σ² + ε); s is kept for the backward. */
function normalizeWithStats(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, eps: number) {
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const scale = tf.mul(gamma, invStd);
  return { y: tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(mean, scale))), invStd };
}

/** x − μ and the backward's per-channel sums Σdy and Σdy·(x − μ) over this replica's samples. */
function backwardSums(dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor, axes: number[]) {
  const xc = tf.sub(x, mean);
  return { xc, sumDy: tf.sum(dy, axes), sumDyXc: tf.sum(tf.mul(dy, xc), axes) };
}

/**
 * The closed-form dx of training BN, dx = γs·(dy − Σdy/n − x̂·Σ(dy·x̂)/n), written with xc = x − μ:
 *   dx = k·dy − xc·(k·s²·Σ(dy·xc)/n) − k·Σdy/n,   k = γ·s.
 * The sums are over the whole batch: this replica's in local BN, every replica's in SyncBN.
 */
function batchNormInputGrad(dy: tf.Tensor, xc: tf.Tensor, gamma: tf.Tensor, invStd: tf.Tensor, sumDy: tf.Tensor, sumDyXc: tf.Tensor, n: number): tf.Tensor {
  const k = tf.mul(gamma, invStd);
  const cx = tf.mul(k, tf.mul(tf.square(invStd), tf.div(sumDyXc, n)));
  const c0 = tf.mul(k, tf.div(sumDy, n));
  return tf.sub(tf.sub(tf.mul(dy, k), tf.mul(xc, cx)), c0);
}

/**
 * Training-mode BN as one tape node with its closed-form backward (x̂ = (x − μ)·s, s = 1/√(σ² + ε)):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·s·(dy − Σdy/n − x̂·Σ(dy·x̂)/n).
 * tfjs keeps every intermediate gradient of a tape until the backward pass ends, so the ~10 elementary ops of a
 * BN would each pin a full-size gradient; as one node only x is saved and only dx survives.
 */
function trainingBatchNorm(layer: BatchNormLayer, axes: number[], n: number) {
  // on wasm the same math runs as two fused kernels (engine's batch-norm.ts): 4 passes over memory instead of ~14
  if (tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend())) return fusedKernelBatchNorm(layer, n);
  return tf.customGrad((...args: unknown[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { mean, variance } = tf.moments(x, axes);
    updateRunningStats(layer, mean, variance, n);
    const { y, invStd } = normalizeWithStats(x, gamma, beta, mean, variance, layer.eps);
    save([x, mean, invStd, gamma]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xs, mu, s, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          const { xc, sumDy, sumDyXc } = backwardSums(dy, xs, mu, axes);
          return [batchNormInputGrad(dy, xc, g, s, sumDy, sumDyXc, n), tf.mul(sumDyXc, s), sumDy];
        }),
    };
  });
}

/** trainingBatchNorm on the engine's fused kernels: same outputs and gradients, float64 channel sums. */
function fusedKernelBatchNorm(layer: BatchNormLayer, n: number) {
  return tf.customGrad((...args: unknown[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, mean, variance, invStd] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x, gamma, beta }, { eps: layer.eps }) as tf.Tensor[];
    updateRunningStats(layer, mean!, variance!, n);
    save([x, mean!, invStd!, gamma]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, mu, s, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, { x: xs, dy, mean: mu, invStd: s, gamma: g }) as tf.Tensor[];
      },
    };
  });
}

/**
 * Synchronized BN (SyncBN, as torch.nn.SyncBatchNorm): the fused training BN above with the statistics of the whole
 * batch spread over data-parallel replicas, one all-reduce per layer in each direction (each is a barrier between
 * the replicas). Forward: each replica computes its own moments two-pass (as tf.moments) and the replicas combine
 * them as Chan et al. (1979) combine parallel variances: with Sᵣ = Σx and M2ᵣ = Σ(x − x̄ᵣ)² over nᵣ values,
 *   μ = ΣSᵣ / n,   M2 = ΣM2ᵣ + (ΣSᵣ²/nᵣ − (ΣSᵣ)²/n)   (the bracket is Σnᵣ(x̄ᵣ − μ)², taken in float64),
 * which avoids the cancellation of Σx² − n·μ² in float32. Backward: dx needs the whole batch's Σdy and Σdy·(x − μ);
 * the γ/β gradients returned are this replica's share, so the replicas' gradients add up to the whole batch's
 * (Ioffe & Szegedy 2015, Alg. 1 backward, with the sums taken over every replica's samples).
 */
function syncedTrainingBatchNorm(layer: BatchNormLayer, axes: number[], nLocal: number, allReduce: BatchStatsAllReduce) {
  const channels = layer.channels;
  let n = nLocal;
  return tf.customGrad((...args: unknown[]) => {
    const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const local = tf.tidy(() => {
      const m = tf.moments(x, axes);
      return tf.concat([tf.mul(m.mean, nLocal), tf.mul(m.variance, nLocal)]);
    });
    const v = local.dataSync();
    local.dispose();
    // [Sᵣ (C), M2ᵣ (C), Sᵣ²/nᵣ (C), nᵣ], summed over the replicas
    const sums = new Float64Array(3 * channels + 1);
    sums.set(v);
    for (let c = 0; c < channels; c++) sums[2 * channels + c] = (v[c]! * v[c]!) / nLocal;
    sums[3 * channels] = nLocal;
    allReduce(sums, layer);
    n = sums[3 * channels]!;
    const meanValues = new Float32Array(channels);
    const varValues = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const total = sums[c]!;
      meanValues[c] = total / n;
      varValues[c] = Math.max(0, sums[channels + c]! + (sums[2 * channels + c]! - (total * total) / n)) / n;
    }
    const mean = tf.tensor1d(meanValues);
    const variance = tf.tensor1d(varValues);
    updateRunningStats(layer, mean, variance, n);
    const { y, invStd } = normalizeWithStats(x, gamma, beta, mean, variance, layer.eps);
    save([x, mean, invStd, gamma]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xs, mu, s, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          const { xc, sumDy, sumDyXc } = backwardSums(dy, xs, mu, axes);
          const all = Float64Array.from(tf.concat([sumDy, sumDyXc]).dataSync());
          allReduce(all, layer);
          const allSumDy = tf.tensor1d(Float32Array.from(all.subarray(0, channels)));
          const allSumDyXc = tf.tensor1d(Float32Array.from(all.subarray(channels)));
          return [batchNormInputGrad(dy, xc, g, s, allSumDy, allSumDyXc, n), tf.mul(sumDyXc, s), sumDy];
        }),
    };
  });
}

function updateRunningStats(layer: BatchNormLayer, mean: tf.Tensor, variance: tf.Tensor, n: number): void {
  const m = layer.momentum;
  tf.tidy(() => {
    const unbiased = tf.mul(variance, n / (n - 1));
    layer.runningMean.assign(tf.add(tf.mul(layer.runningMean, 1 - m), tf.mul(mean, m)));
    layer.runningVar.assign(tf.add(tf.mul(layer.runningVar, 1 - m), tf.mul(unbiased, m)));
  });
}
