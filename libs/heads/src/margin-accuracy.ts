import { tf } from '@facet/engine';
import { classCosines } from './class-cosines.js';
import { checkEmbeddingsAndCenters, checkLabels } from './validate-inputs.js';

/**
 * Fraction (0..1) of embeddings whose nearest class by cosine (max over sub-centres) is their label: the
 * training accuracy of a margin head, measured without the margin. Ties go to the lowest class index.
 */
export function marginAccuracy(embeddings: tf.Tensor2D, centers: tf.Tensor2D | tf.Tensor3D, labels: tf.Tensor1D): number {
  const { batch, numClasses } = checkEmbeddingsAndCenters('marginAccuracy', embeddings, centers);
  checkLabels('marginAccuracy', labels, batch, numClasses);
  const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(classCosines(embeddings, centers), 1), labels), 'float32')));
  const n = hits.dataSync()[0]!;
  hits.dispose();
  return n / batch;
}
