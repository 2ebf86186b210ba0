// nn.LayerNorm(dim) over the last axis: biased variance, eps 1e-5 (PyTorch default; insightface's ViT passes none).
import { tf } from '@facet/engine';
import { constant } from '../init.js';
import type { ForwardContext, NetworkBuilder } from '../network.js';

export function layerNorm(b: NetworkBuilder, name: string, dim: number, eps = 1e-5) {
  const gamma = b.param(`${name}.weight`, [dim], constant(1));
  const beta = b.param(`${name}.bias`, [dim], constant(0));
  return {
    apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
      const { mean, variance } = tf.moments(x, -1, true);
      const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
      return tf.add(tf.mul(xhat, ctx.variable(gamma)), ctx.variable(beta));
    },
  };
}
