// Training-time regularisers with masks drawn from the backbone's seeded generator (same on every backend).
import { tf } from '@facet/engine';
import type { ForwardContext } from '../network.js';

/** nn.Dropout(p): zero each element with probability p, scale survivors by 1/(1 − p). Identity in inference. */
export function dropout(x: tf.Tensor, p: number, ctx: ForwardContext): tf.Tensor {
  if (!ctx.training || p <= 0) return x;
  const mask = new Float32Array(x.size);
  const keep = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = ctx.rng.next() < p ? 0 : keep;
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/**
 * timm DropPath (stochastic depth, Huang et al. 2016): per sample, drop the whole residual branch with
 * probability p and scale kept branches by 1/(1 − p). x: [B, ...].
 */
export function dropPath(x: tf.Tensor, p: number, ctx: ForwardContext): tf.Tensor {
  if (!ctx.training || p <= 0) return x;
  const batch = x.shape[0]!;
  const mask = new Float32Array(batch);
  for (let i = 0; i < batch; i++) mask[i] = ctx.rng.next() < p ? 0 : 1 / (1 - p);
  return tf.mul(x, tf.tensor(mask, [batch, ...x.shape.slice(1).map(() => 1)]));
}
