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

/**
 * The same contract for networks that run outside tfjs (e.g. ONNX Runtime: @facet/onnx's `loadOnnxModel` result
 * satisfies it structurally): `batch` normalised RGB NHWC images in, raw [batch, dim] embeddings out, row-major.
 */
export interface AsyncEmbeddingModel {
  readonly inputSize: number;
  embed(x: Float32Array, batch: number): Promise<Float32Array>;
}

/** Anything the embedding functions accept. */
export type EmbeddingSource = EmbeddingModel | AsyncEmbeddingModel;

export function isAsyncEmbeddingModel(m: EmbeddingSource): m is AsyncEmbeddingModel {
  return typeof (m as Partial<EmbeddingModel>).apply !== 'function' && typeof (m as Partial<AsyncEmbeddingModel>).embed === 'function';
}
