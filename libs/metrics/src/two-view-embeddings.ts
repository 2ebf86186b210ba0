import { tf } from '@facet/engine';
import type { EmbeddingMatrix } from './embedding-matrix.js';

/** One batch of two augmented views of the same images. */
export interface TwoViewBatch {
  views1: tf.Tensor4D;
  views2: tf.Tensor4D;
  labels: ArrayLike<number> | tf.Tensor1D;
}

export interface TwoViewEmbeddings {
  v1: EmbeddingMatrix;
  v2: EmbeddingMatrix;
  labels: Int32Array;
}

export interface CollectOptions {
  /** Dispose each batch's tensors after use (default true). */
  disposeInputs?: boolean;
  /** Called after each batch with the number of images embedded so far. */
  onBatch?: (images: number) => void;
}

/**
 * Embed every two-view batch with `embed` (e.g. a backbone's `apply(x, { training: false })`) and gather the
 * results on the host, batch by batch, so only one batch of activations lives on the engine at a time.
 */
export async function collectTwoViewEmbeddings(
  batches: AsyncIterable<TwoViewBatch> | Iterable<TwoViewBatch>,
  /** Raw embeddings of a batch; async for runtimes outside tfjs (ONNX Runtime), whose result is awaited. */
  embed: (x: tf.Tensor4D) => tf.Tensor2D | Promise<tf.Tensor2D>,
  options: CollectOptions = {},
): Promise<TwoViewEmbeddings> {
  const parts1: Float32Array[] = [];
  const parts2: Float32Array[] = [];
  const labels: number[] = [];
  let dim = 0;
  for await (const batch of batches) {
    const b = batch.views1.shape[0];
    if (batch.views2.shape.join() !== batch.views1.shape.join()) {
      throw new Error(`two-view batch: views2 [${batch.views2.shape}] differs from views1 [${batch.views1.shape}].`);
    }
    const batchLabels = batch.labels instanceof tf.Tensor ? Array.from(batch.labels.dataSync()) : Array.from(batch.labels);
    if (batchLabels.length !== b) throw new Error(`two-view batch: ${batchLabels.length} labels for ${b} images.`);
    for (const [views, parts] of [[batch.views1, parts1], [batch.views2, parts2]] as const) {
      // a tidy scope around the call frees a synchronous embed's intermediates; an async one (created after its
      // first await, outside any scope) owns its memory and returns only the result
      tf.engine().startScope();
      let out: tf.Tensor2D | Promise<tf.Tensor2D>;
      try {
        out = embed(views);
      } finally {
        tf.engine().endScope(out! instanceof Promise ? undefined : out!);
      }
      const z = out instanceof Promise ? await out : out;
      if (z.rank !== 2 || z.shape[0] !== b) {
        z.dispose();
        throw new Error(`embed returned shape [${z.shape}] for ${b} images; expected [${b}, D].`);
      }
      if (dim && z.shape[1] !== dim) throw new Error(`embed changed dimension from ${dim} to ${z.shape[1]}.`);
      dim = z.shape[1]!;
      parts.push((await z.data()) as Float32Array);
      z.dispose();
    }
    labels.push(...batchLabels);
    if (options.disposeInputs ?? true) {
      tf.dispose([batch.views1, batch.views2]);
      if (batch.labels instanceof tf.Tensor) batch.labels.dispose();
    }
    options.onBatch?.(labels.length);
  }
  if (labels.length === 0) throw new Error('no batches: the dataset produced no images to embed.');
  const join = (parts: Float32Array[]) => {
    const out = new Float32Array(labels.length * dim);
    let o = 0;
    for (const p of parts) (out.set(p, o), (o += p.length));
    return out;
  };
  return { v1: { data: join(parts1), dim }, v2: { data: join(parts2), dim }, labels: Int32Array.from(labels) };
}
