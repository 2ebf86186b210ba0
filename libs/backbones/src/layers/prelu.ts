// nn.PReLU(num_parameters=C): one learned negative slope per channel, initialised at 0.25 (PyTorch default).
import { tf } from '@facet/engine';
import { constant } from '../init.js';
import type { ForwardContext, NetworkBuilder } from '../network.js';

export function prelu(b: NetworkBuilder, name: string, channels: number) {
  const alpha = b.param(`${name}.weight`, [channels], constant(0.25));
  return { apply: (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D => tf.prelu(x, ctx.variable(alpha) as tf.Tensor as tf.Tensor4D) };
}
