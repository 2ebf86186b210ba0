import type { tf } from '@facet/engine';

/**
 * What evaluation needs from a network: the square input side and a forward pass from normalised RGB NHWC
 * images ((p − 127.5) / 127.5, insightface §1) to raw (un-normalised) embeddings. Backbones satisfy it
 * structurally, so this lib does not depend on them.
 */
export interface EmbeddingModel {
  readonly inputSize: number;
  apply(x: tf.Tensor4D, opts?: { training?: boolean }): tf.Tensor2D;
}
