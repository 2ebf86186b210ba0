// Inference-time folding of a BatchNorm (running statistics) into the convolution before it (Ioffe & Szegedy 2015,
// §3.2: at inference BN is a fixed per-channel affine map y = x·a + c, a = γ/√(σ² + ε), c = β − μ·a), with the PReLU
// that follows in the same fused kernel: the activation map is written once instead of three times.
// The folded weights are kept resident per layer, keyed on the identity of the variables' data (tfjs gives a
// variable new data on every assign: optimizer steps, setWeights), and rebuilt when any of them changed. Building
// them on every call would cost more than it saves: the wasm backend packs a convolution's weights for XNNPACK
// once per filter tensor, so a fresh filter each call means repacking every layer each call.
import { tf } from '@facet/engine';
import type { ForwardContext } from '../network.js';
import type { Conv2d, FoldedConvWeights } from './conv.js';

export interface FoldCacheEntry extends FoldedConvWeights {
  /** dataIds of the variables these weights were folded from. */
  sources: unknown[];
}

/** conv → BN(bnName, running stats) [→ PReLU(preluWeight)] as one folded, fused convolution. */
export function foldedConvBatchNorm(x: tf.Tensor4D, ctx: ForwardContext, conv: Conv2d, bnName: string, preluWeight?: string): tf.Tensor4D {
  const layer = ctx.batchNorm(bnName);
  const sources = [...conv.variables(ctx), layer.weight, layer.bias, layer.runningMean, layer.runningVar].map((v) => v.dataId as unknown);
  const fold = () =>
    tf.tidy(() => {
      const scale = tf.mul(layer.weight, tf.rsqrt(tf.add(layer.runningVar, layer.eps))) as tf.Tensor1D;
      const shift = tf.sub(layer.bias, tf.mul(layer.runningMean, scale)) as tf.Tensor1D;
      const f = conv.fold(ctx, scale, shift);
      return [f.filter, f.bias] as [tf.Tensor4D, tf.Tensor1D];
    });
  const alpha = preluWeight ? (ctx.variable(preluWeight) as tf.Tensor as tf.Tensor1D) : undefined;
  const cache = ctx.foldCache;
  if (!cache) {
    const [filter, bias] = fold();
    return conv.applyFolded(x, { filter, bias }, alpha);
  }
  let entry = cache.get(bnName);
  if (!entry || entry.sources.some((s, i) => s !== sources[i])) {
    if (entry) tf.dispose([entry.filter, entry.bias]);
    const [filter, bias] = fold();
    entry = { filter: tf.keep(filter), bias: tf.keep(bias), sources };
    cache.set(bnName, entry);
  }
  return conv.applyFolded(x, entry, alpha);
}
