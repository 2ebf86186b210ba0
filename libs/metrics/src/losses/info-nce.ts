import { tf } from '@facet/engine';
import { checkTemperature, checkTwoViewBatch, l2NormalizeRows } from './two-view-batch.js';

export interface InfoNceOptions {
  /** τ; default 0.5 (as ntXent). */
  temperature?: number;
  /**
   * Average the z1→z2 and z2→z1 directions (CLIP / MoCo v3 style). Default true: the population loss of
   * Huang et al. (§4) is symmetric in the two views.
   */
  symmetric?: boolean;
}

/**
 * InfoNCE with in-batch negatives (van den Oord et al. 2018; the batch form of Huang et al. §4):
 * logits = ẑ1 ẑ2ᵀ / τ (cosines), and each row's positive is the diagonal entry:
 *   L_{1→2} = -mean_i log( exp(ẑ1_iᵀẑ2_i/τ) / Σ_j exp(ẑ1_iᵀẑ2_j/τ) ),
 * so each anchor has B-1 negatives from the other view (NT-Xent adds the same-view ones).
 */
export function infoNCE(z1: tf.Tensor2D, z2: tf.Tensor2D, options: InfoNceOptions = {}): tf.Scalar {
  const temperature = options.temperature ?? 0.5;
  checkTemperature(temperature, 'infoNCE');
  const b = checkTwoViewBatch(z1, z2, 'infoNCE');
  return tf.tidy(() => {
    const logits = tf.div(tf.matMul(l2NormalizeRows(z1), l2NormalizeRows(z2), false, true), temperature);
    const eye = tf.eye(b);
    const direction = (l: tf.Tensor) => tf.div(tf.neg(tf.sum(tf.mul(tf.logSoftmax(l), eye))), b);
    const forward = direction(logits);
    return ((options.symmetric ?? true) ? tf.div(tf.add(forward, direction(tf.transpose(logits))), 2) : forward) as tf.Scalar;
  });
}
