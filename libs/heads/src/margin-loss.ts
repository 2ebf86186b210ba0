import { tf } from '@facet/engine';
import { classCosines } from './class-cosines.js';
import { marginLogits, meanSoftmaxCrossEntropy } from './margin-logits.js';
import { validateMarginOptions, type MarginOptions } from './margin-options.js';
import { checkEmbeddingsAndCenters, checkLabels } from './validate-inputs.js';

/**
 * Combined margin softmax loss (ArcFace / CosFace / SphereFace / any mix; sub-center when centers are [C, K, D]):
 * embeddings and centres are L2-normalised row-wise, target logit s·(cos(m1·θ + m2) − m3), others s·cos θ, mean
 * softmax cross-entropy over the batch. Differentiable with tf.grads w.r.t. embeddings and centers.
 */
export function marginLoss(
  embeddings: tf.Tensor2D,
  centers: tf.Tensor2D | tf.Tensor3D,
  labels: tf.Tensor1D,
  opts: MarginOptions,
): tf.Scalar {
  const o = validateMarginOptions(opts);
  const { batch, numClasses } = checkEmbeddingsAndCenters('marginLoss', embeddings, centers);
  checkLabels('marginLoss', labels, batch, numClasses);
  return tf.tidy(() => meanSoftmaxCrossEntropy(marginLogits(classCosines(embeddings, centers), labels, o), labels));
}
