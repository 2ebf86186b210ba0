import { tf } from '@facet/engine';

// Identity forward, zero gradient backward (tfjs has no public stopGradient op).
const stopGradientOp = tf.customGrad(((a: tf.Tensor) => ({
  value: a.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Identity in the forward pass, zero gradient in the backward pass. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
