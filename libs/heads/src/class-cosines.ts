// Cosine between every L2-normalised embedding and every L2-normalised class centre; with K sub-centres per class
// the class cosine is max_k cos(x, W[c,k]) (Sub-center ArcFace, TPAMI Eq. 7).
import { tf } from '@facet/engine';

/** F.normalize's eps: a zero row stays zero instead of producing NaN. */
export const NORMALIZE_EPS = 1e-12;

/**
 * cos [B, C] for embeddings [B, D] and centers [C, D] or [C, K, D], clamped to [−1, 1] like insightface.
 * Computed as (x̂·Wᵀ)/‖W_c‖: identical values to normalising W first, without building a normalised copy of all
 * centres. Differentiable w.r.t. both inputs.
 */
export function classCosines(embeddings: tf.Tensor2D, centers: tf.Tensor2D | tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, d] = embeddings.shape;
    const c = centers.shape[0];
    const k = centers.rank === 3 ? centers.shape[1]! : 1;
    const xNorm = tf.maximum(tf.sqrt(tf.sum(tf.square(embeddings), 1, true)), NORMALIZE_EPS);
    const xHat = tf.div(embeddings, xNorm);
    const w = centers.rank === 3 ? tf.reshape(centers, [c * k, d]) : (centers as tf.Tensor2D);
    const wNorm = tf.maximum(tf.sqrt(tf.sum(tf.square(w), 1)), NORMALIZE_EPS);
    const cosAll = tf.div(tf.matMul(xHat, w as tf.Tensor2D, false, true), tf.reshape(wNorm, [1, c * k]));
    const cos = k > 1 ? tf.max(tf.reshape(cosAll, [b, c, k]), 2) : cosAll;
    return tf.clipByValue(cos, -1, 1) as tf.Tensor2D;
  });
}
