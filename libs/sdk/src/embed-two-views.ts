// `facet measure <model> <dataset>`: two augmented views of every image, embedded by a saved backbone. It joins
// @facet/data (loader, augmentation presets) and @facet/backbones (the model) to @facet/metrics' collector, which is
// why it lives in the SDK rather than in any one of them.
import { AUGMENT_PRESETS, BatchLoader, openDataset } from '@facet/data';
import { tf } from '@facet/engine';
import { isAsyncEmbeddingModel } from '@facet/eval';
import { collectTwoViewEmbeddings, type TwoViewBatch, type TwoViewEmbeddings } from '@facet/metrics';
import { openEmbeddingModel, type InferenceRuntime } from './embedding-model.js';

export interface EmbedTwoViewsOptions {
  /** A key of @facet/data's AUGMENT_PRESETS. */
  augment: string;
  batchSize: number;
  seed: number;
  /** Only the first N images. */
  images?: number;
  /** Who runs the network (see openEmbeddingModel); default 'auto'. */
  runtime?: InferenceRuntime;
  onWarning?: (m: string) => void;
  /** Images embedded so far, out of total (called with 0 first). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Embed two augmented views of every image of `dataset` with the backbone saved in `model`: one pass of a
 * BatchLoader (no shuffling, no dropped batch, twoViews) whose batches go straight to the backbone in inference
 * mode. The loader yields normalised NHWC floats, which is what `apply` expects.
 */
export async function embedTwoViews(model: string, dataset: string, opts: EmbedTwoViewsOptions): Promise<TwoViewEmbeddings> {
  const presets = AUGMENT_PRESETS as Record<string, (typeof AUGMENT_PRESETS)[keyof typeof AUGMENT_PRESETS]>;
  const augment = presets[opts.augment];
  if (!augment) throw new Error(`--augment ${opts.augment} is not a preset; use one of ${Object.keys(presets).join(', ')}.`);
  const opened = await openEmbeddingModel(model, { runtime: opts.runtime ?? 'auto' });
  const net = opened.model;
  try {
    const ds = await openDataset(dataset, { imageSize: net.inputSize, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
    if (ds.imageSize !== net.inputSize) {
      throw new Error(`dataset ${dataset} gives ${ds.imageSize} px images but the model takes ${net.inputSize} px.`);
    }
    const total = Math.min(opts.images ?? ds.size, ds.size);
    const loader = new BatchLoader(ds, { batchSize: opts.batchSize, seed: opts.seed, shuffle: false, dropLast: false, augment, twoViews: true });
    const size = ds.imageSize;
    opts.onProgress?.(0, total);
    async function* batches(): AsyncGenerator<TwoViewBatch> {
      let seen = 0;
      while (seen < total) {
        const batch = await loader.next();
        if (!batch.views2) throw new Error('the data loader returned no second view; it must support twoViews.');
        const labels = Array.from(batch.labels);
        const keep = Math.min(labels.length, total - seen);
        const toImages = (x: Float32Array) => tf.tidy(() => tf.slice(tf.tensor4d(x, [labels.length, size, size, 3]), 0, keep) as tf.Tensor4D);
        yield { views1: toImages(batch.images), views2: toImages(batch.views2), labels: labels.slice(0, keep) };
        seen += keep;
      }
    }
    try {
      const embed = isAsyncEmbeddingModel(net)
        ? async (x: tf.Tensor4D) => {
            const rows = await net.embed(x.dataSync() as Float32Array, x.shape[0]);
            return tf.tensor2d(rows, [x.shape[0], rows.length / x.shape[0]]);
          }
        : (x: tf.Tensor4D) => net.apply(x, { training: false });
      return await collectTwoViewEmbeddings(batches(), embed, {
        onBatch: (n) => opts.onProgress?.(n, total),
      });
    } finally {
      await loader.close();
    }
  } finally {
    await opened.dispose();
  }
}
