import { tf } from '@facet/engine';
import { checkTemperature, checkTwoViewBatch, l2NormalizeRows } from './two-view-batch.js';

export interface NtXentOptions {
  /** τ; default 0.5 (SimCLR's CIFAR-10 setting; Huang et al. analyse τ = 1, large batches use ~0.1). */
  temperature?: number;
}

/**
 * NT-Xent (SimCLR, Chen et al. 2020): the 2B views of a batch, each anchor's positive is the other view of its
 * image and the 2B-2 other views are negatives:
 *   ℓ_i = -log( exp(s_{i,p(i)}/τ) / Σ_{k≠i} exp(s_{ik}/τ) ),  s = cosine,  L = mean over the 2B anchors.
 * Self-similarities are removed by a -1e9 logit (exp underflows to exactly 0), not by a boolean mask, so the
 * graph stays differentiable on every backend.
 */
export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, options: NtXentOptions = {}): tf.Scalar {
  const temperature = options.temperature ?? 0.5;
  checkTemperature(temperature, 'ntXent');
  const b = checkTwoViewBatch(z1, z2, 'ntXent');
  return tf.tidy(() => {
    const z = tf.concat([l2NormalizeRows(z1), l2NormalizeRows(z2)], 0);
    const logits = tf.sub(tf.div(tf.matMul(z, z, false, true), temperature), tf.mul(tf.eye(2 * b), 1e9));
    const positives = tf.oneHot(tf.tensor1d(Array.from({ length: 2 * b }, (_, i) => (i + b) % (2 * b)), 'int32'), 2 * b);
    return tf.div(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), positives))), 2 * b) as tf.Scalar;
  });
}
