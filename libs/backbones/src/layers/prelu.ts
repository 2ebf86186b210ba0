// nn.PReLU(num_parameters=C): one learned negative slope per channel, initialised at 0.25 (PyTorch default).
import { PRELU_GRAD, tf } from '@facet/engine';
import { constant } from '../init.js';
import type { ForwardContext, NetworkBuilder } from '../network.js';

export function prelu(b: NetworkBuilder, name: string, channels: number) {
  const alpha = b.param(`${name}.weight`, [channels], constant(0.25));
  return { apply: (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D => applyPrelu(x, ctx.variable(alpha) as tf.Tensor as tf.Tensor1D) };
}

/** tf.prelu, with the backward as the engine's one-pass kernel where the backend has it (wasm). */
export function applyPrelu(x: tf.Tensor4D, alpha: tf.Tensor1D): tf.Tensor4D {
  if (!tf.getKernel(PRELU_GRAD, tf.getBackend())) return tf.prelu(x, alpha as tf.Tensor as tf.Tensor4D);
  const f = tf.customGrad((...args: unknown[]) => {
    const [xs, a, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
    save([xs, a]);
    return {
      value: tf.prelu(xs, a as tf.Tensor as tf.Tensor4D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(PRELU_GRAD, { x: saved[0]!, dy, alpha: saved[1]! }) as tf.Tensor[],
    };
  });
  return f(x, alpha) as tf.Tensor4D;
}
