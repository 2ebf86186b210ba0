// New identities for open-set inversion. A uniform random direction of the D-sphere (D = 128 or 512) is almost
// orthogonal to every face the model can produce: real embeddings share a common component (the "mean face"
// direction; impostor pairs score ≈ 0.1–0.2, not 0) and span a low-dimensional part of the sphere, while a uniform
// direction has cos ≈ N(0, 1/D) with every one of them. Such a target is unreachable with a natural-looking image,
// so the BN prior (which keeps the image natural) and the identity term pull in opposite directions and the
// identity loses (measured: docs/inversion/README.md, hypothesis H1).
//
// Facet therefore draws new identities where the model's identities live: from the Gaussian with the mean μ and
// the (sample) covariance Σ of a reference set R of unit embeddings, by default the trained head's class centres.
// With C reference rows, t = μ + (C − 1)^(−1/2) Σ_k z_k (r_k − μ), z ~ N(0, I_C), has exactly E[t] = μ and
// Cov[t] = Σ = (C − 1)^(−1) Σ_k (r_k − μ)(r_k − μ)ᵀ, without forming or factorising Σ (rank ≤ C − 1 < D).
// The same t is Σ_k w_k r_k with w_k = 1/C + (z_k − z̄)/√(C − 1): a fixed mixture of the reference identities, so
// the *same* new identity can be expressed in another model's space (a verifier trained on the same classes) by
// mixing that model's centres with the same weights.
import { tf } from '@facet/engine';
import { normalizeRows } from './identity-loss.js';

/** Unit rows from reference embeddings: [C, D] as they are; [C, K, D] sub-centres: the normalised mean of each class's unit sub-centres. */
export function referenceRows(reference: tf.Tensor2D | tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    if (reference.rank === 2) return normalizeRows(reference as tf.Tensor2D);
    const [C, K, D] = reference.shape as [number, number, number];
    const unit = normalizeRows(tf.reshape(reference, [C * K, D]) as tf.Tensor2D);
    return normalizeRows(tf.mean(tf.reshape(unit, [C, K, D]), 1) as tf.Tensor2D);
  });
}

/**
 * Mixture weights [n, C] of `count` random identities over C reference rows: w = 1/C + (z − z̄)/√(C − 1),
 * z ~ N(0, I_C) from `seed` (see the file comment: Σ_k w_k r_k ~ N(μ, Σ) of the rows).
 */
export function randomIdentityWeights(count: number, referenceCount: number, seed: number): tf.Tensor2D {
  const C = referenceCount;
  if (!Number.isInteger(C) || C < 2) throw new Error(`invert: random identities need at least 2 reference embeddings (class centres) to estimate their spread; got ${C}.`);
  return tf.tidy(() => {
    // tfjs treats seed 0 as "no seed" (Math.random): an odd seed is never 0
    const z = tf.randomNormal([count, C], 0, 1, 'float32', 2 * seed + 1);
    const centred = tf.sub(z, tf.mean(z, 1, true));
    return tf.add(tf.div(centred, Math.sqrt(C - 1)), 1 / C) as tf.Tensor2D;
  });
}

/** Raw (unnormalised) random identities Σ_k w_k r_k: [n, D], r = referenceRows(reference). */
export function mixReference(weights: tf.Tensor2D, reference: tf.Tensor2D | tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = referenceRows(reference);
    if (rows.shape[0] !== weights.shape[1]) {
      throw new Error(`invert: random identities were drawn over ${weights.shape[1]} reference rows but this reference has ${rows.shape[0]}; use the centres of a run trained on the same classes.`);
    }
    return tf.matMul(weights, rows);
  });
}

/** Unit random identities: from the reference's Gaussian (see above), or uniform on the sphere (the paper's recipe). */
export function sampleRandomIdentities(
  count: number,
  dim: number,
  seed: number,
  reference?: tf.Tensor2D | tf.Tensor3D,
): { targets: tf.Tensor2D; weights?: tf.Tensor2D } {
  if (!reference) return { targets: tf.tidy(() => normalizeRows(tf.randomNormal([count, dim], 0, 1, 'float32', 2 * seed + 1))) };
  const weights = randomIdentityWeights(count, reference.shape[0], seed);
  const targets = tf.tidy(() => normalizeRows(mixReference(weights, reference)));
  return { targets, weights };
}
