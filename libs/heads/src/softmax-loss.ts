// The plain softmax baseline (ArcFace TPAMI Table 10/11 "Softmax"): an unnormalised fully connected layer
// z = x·W (+ b) followed by mean softmax cross-entropy. No normalisation, no margin.
import { tf } from '@facet/engine';
import { meanSoftmaxCrossEntropy } from './margin-logits.js';
import { checkLabels } from './validate-inputs.js';

export interface SoftmaxLossOptions {
  /**
   * Layout of `weights`: 'DC' = [dim, classes] (tf.layers.dense convention), 'CD' = [classes, dim]
   * (torch nn.Linear / class-centre convention). By default it is inferred from which axis matches the embedding
   * dimension; a square matrix is read as 'DC'.
   */
  layout?: 'DC' | 'CD';
}

export function softmaxLoss(
  embeddings: tf.Tensor2D,
  weights: tf.Tensor2D,
  labels: tf.Tensor1D,
  bias?: tf.Tensor1D,
  options: SoftmaxLossOptions = {},
): tf.Scalar {
  if (!(embeddings instanceof tf.Tensor) || embeddings.rank !== 2) {
    throw new Error(`softmaxLoss: embeddings must be a 2-D tensor [batch, dim]; got ${String(embeddings?.shape)}.`);
  }
  if (!(weights instanceof tf.Tensor) || weights.rank !== 2) {
    throw new Error(`softmaxLoss: weights must be a 2-D tensor [dim, classes] or [classes, dim]; got ${String(weights?.shape)}.`);
  }
  const [batch, dim] = embeddings.shape;
  const [r, c] = weights.shape;
  let layout = options.layout;
  if (layout !== undefined && layout !== 'DC' && layout !== 'CD') {
    throw new Error(`softmaxLoss: layout='${String(layout)}' must be 'DC' ([dim, classes]) or 'CD' ([classes, dim]).`);
  }
  layout ??= r === dim ? 'DC' : 'CD';
  if ((layout === 'DC' && r !== dim) || (layout === 'CD' && c !== dim)) {
    throw new Error(
      `softmaxLoss: weights [${weights.shape}] do not match embedding dim ${dim} with layout ${layout} ` +
        `(expected [${dim}, classes] for 'DC' or [classes, ${dim}] for 'CD').`,
    );
  }
  const numClasses = layout === 'DC' ? c : r;
  if (bias !== undefined && (!(bias instanceof tf.Tensor) || bias.rank !== 1 || bias.shape[0] !== numClasses)) {
    throw new Error(`softmaxLoss: bias must be a 1-D tensor of length ${numClasses} (one per class); got ${String(bias?.shape)}.`);
  }
  checkLabels('softmaxLoss', labels, batch, numClasses);
  return tf.tidy(() => {
    let logits = tf.matMul(embeddings, weights, false, layout === 'CD') as tf.Tensor2D;
    if (bias) logits = tf.add(logits, bias);
    return meanSoftmaxCrossEntropy(logits, labels);
  });
}
