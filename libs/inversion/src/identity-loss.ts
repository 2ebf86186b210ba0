// The identity term: how far the current images are from their targets in the model's embedding space.
import { tf } from '@facet/engine';
import { classCosines, marginLoss, type MarginOptions } from '@facet/heads';
import type { OpenSetLoss } from './options.js';

/** L2-normalise rows (F.normalize, eps 1e-12). */
export function normalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D);
}

/** cos(f_i, t_i) for every row: [N]. `targets` must already be L2-normalised. */
export function rowCosines(embeddings: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(normalizeRows(embeddings), targets), 1) as tf.Tensor1D);
}

/** cos(f_i, W_{y_i}) (max over sub-centres): [N]. */
export function classTargetCosines(embeddings: tf.Tensor2D, centers: tf.Tensor2D | tf.Tensor3D, labels: Int32Array): tf.Tensor1D {
  return tf.tidy(() => {
    const cos = classCosines(embeddings, centers);
    const idx = tf.tensor2d(Array.from(labels, (c, i) => [i, c]), [labels.length, 2], 'int32');
    return tf.gatherND(cos, idx) as tf.Tensor1D;
  });
}

/**
 * Open set (ArcFace §4.5: "the ℓ2 loss between feature pairs"): mean_i ‖f̂_i − t̂_i‖₂² (= 2 − 2cos) for 'l2', or
 * mean_i (1 − cos) for 'cosine'; both on L2-normalised features, as ArcFace features are compared by angle.
 */
export function openSetIdentityLoss(embeddings: tf.Tensor2D, targets: tf.Tensor2D, loss: OpenSetLoss = 'l2'): tf.Scalar {
  return tf.tidy(() => {
    if (loss === 'cosine') return tf.mean(tf.sub(1, rowCosines(embeddings, targets))) as tf.Scalar;
    return tf.mean(tf.sum(tf.square(tf.sub(normalizeRows(embeddings), targets)), 1)) as tf.Scalar;
  });
}

/** Close set (Alg. 1): the margin softmax loss (ArcFace Eq. 3) of the images' embeddings against the class centres. */
export function closeSetIdentityLoss(embeddings: tf.Tensor2D, centers: tf.Tensor2D | tf.Tensor3D, labels: Int32Array, margin: MarginOptions): tf.Scalar {
  return tf.tidy(() => marginLoss(embeddings, centers, tf.tensor1d(labels, 'int32'), margin));
}
