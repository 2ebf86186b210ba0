// Inference-time folding of a BatchNorm (running statistics) into the convolution before it (Ioffe & Szegedy 2015,
// §3.2: at inference BN is a fixed per-channel affine map y = x·a + c, a = γ/√(σ² + ε), c = β − μ·a), with the PReLU
// that follows in the same fused kernel: the activation map is written once instead of three times. The folded
// weights are recomputed from the current variables on every call (one multiply per weight, small next to the
// convolution), so no cached copy can go stale after training steps or setWeights.
import { tf } from '@facet/engine';
import type { ForwardContext } from '../network.js';
import type { Conv2d } from './conv.js';

/** conv → BN(bnName, running stats) [→ PReLU(preluWeight)] as one folded, fused convolution. */
export function foldedConvBatchNorm(x: tf.Tensor4D, ctx: ForwardContext, conv: Conv2d, bnName: string, preluWeight?: string): tf.Tensor4D {
  const layer = ctx.batchNorm(bnName);
  const scale = tf.mul(layer.weight, tf.rsqrt(tf.add(layer.runningVar, layer.eps))) as tf.Tensor1D;
  const shift = tf.sub(layer.bias, tf.mul(layer.runningMean, scale)) as tf.Tensor1D;
  return conv.applyFolded(x, ctx, scale, shift, preluWeight ? (ctx.variable(preluWeight) as tf.Tensor as tf.Tensor1D) : undefined);
}
