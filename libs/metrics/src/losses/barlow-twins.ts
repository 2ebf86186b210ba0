import { tf } from '@facet/engine';
import { checkTwoViewBatch } from './two-view-batch.js';

export type BatchStandardization = 'biased' | 'unbiased';

export interface BarlowTwinsOptions {
  /** λ, the weight of the redundancy-reduction (off-diagonal) term; default 5e-3 (Zbontar et al. 2021). */
  lambda?: number;
  /**
   * How each dimension is standardized over the batch before the cross-correlation:
   * 'biased' (default): (z - mean)/sqrt(var_biased + eps), eps 1e-5 — the official code's
   * BatchNorm1d(affine=False); 'unbiased': (z - mean)/std_unbiased — the paper's pseudocode (torch std), eps 0.
   */
  standardize?: BatchStandardization;
  /** Added to the variance; default 1e-5 for 'biased', 0 for 'unbiased'. */
  eps?: number;
}

function standardizeColumns(z: tf.Tensor2D, mode: BatchStandardization, eps: number): tf.Tensor2D {
  const b = z.shape[0]!;
  const centred = tf.sub(z, tf.mean(z, 0, true));
  const variance = tf.div(tf.sum(tf.square(centred), 0, true), mode === 'biased' ? b : b - 1);
  return tf.div(centred, tf.sqrt(tf.add(variance, eps))) as tf.Tensor2D;
}

/**
 * Barlow Twins (Zbontar et al. 2021; Huang et al. §4 "cross-correlation"): standardize every dimension over the
 * batch, F = Z1ᵀZ2 / B (D × D), and
 *   L = Σ_i (1 - F_ii)² + λ Σ_{i≠j} F_ij².
 */
export function barlowTwinsLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, options: BarlowTwinsOptions = {}): tf.Scalar {
  const lambda = options.lambda ?? 5e-3;
  const mode = options.standardize ?? 'biased';
  if (!(typeof lambda === 'number' && Number.isFinite(lambda) && lambda >= 0)) throw new Error(`barlowTwinsLoss: lambda must be a finite number >= 0, got ${lambda}.`);
  if (mode !== 'biased' && mode !== 'unbiased') throw new Error(`barlowTwinsLoss: standardize must be 'biased' or 'unbiased', got '${mode}'.`);
  const eps = options.eps ?? (mode === 'biased' ? 1e-5 : 0);
  if (!(typeof eps === 'number' && Number.isFinite(eps) && eps >= 0)) throw new Error(`barlowTwinsLoss: eps must be a finite number >= 0, got ${eps}.`);
  const b = checkTwoViewBatch(z1, z2, 'barlowTwinsLoss');
  return tf.tidy(() => {
    const d = z1.shape[1]!;
    const f = tf.div(tf.matMul(standardizeColumns(z1, mode, eps), standardizeColumns(z2, mode, eps), true, false), b);
    const eye = tf.eye(d);
    const onDiagonal = tf.sum(tf.square(tf.sub(1, tf.sum(tf.mul(f, eye), 1))));
    const offDiagonal = tf.sum(tf.square(tf.mul(f, tf.sub(1, eye))));
    return tf.add(onDiagonal, tf.mul(offDiagonal, lambda)) as tf.Scalar;
  });
}
