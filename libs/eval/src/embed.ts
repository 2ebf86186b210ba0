import { tf } from '@facet/engine';
import { isAsyncEmbeddingModel, type AsyncEmbeddingModel, type EmbeddingSource } from './model.js';

export interface EmbedOptions {
  /** Images per forward pass (default 64). */
  batchSize?: number;
  /** insightface flip test: embedding = f(x) + f(mirror(x)) before normalising (default true). */
  flip?: boolean;
  /** Called after each batch with the number of images done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface EmbeddingBatchResult {
  /** [N, dim] L2-normalised embeddings, row-major. */
  embeddings: Float32Array;
  dim: number;
  count: number;
  /** Mean L2 norm of the raw embeddings of every view (insightface logs it as "XNorm", a health metric). */
  xnorm: number;
}

/** The images to embed: normalised NHWC float32 (x = (p − 127.5)/127.5), or one RGB HWC uint8 array per image. */
export type EmbedInput = Float32Array | Uint8Array[];

function checkInput(images: EmbedInput, size: number): number {
  const pixels = size * size * 3;
  if (images instanceof Float32Array) {
    if (images.length % pixels !== 0) {
      throw new Error(
        `embed: ${images.length} floats are not a whole number of ${size}×${size}×3 images; the model expects NHWC RGB at its inputSize ${size}.`,
      );
    }
    return images.length / pixels;
  }
  if (!Array.isArray(images)) throw new Error('embed: images must be a Float32Array (NHWC, normalised) or an array of RGB uint8 images.');
  images.forEach((img, i) => {
    if (!(img instanceof Uint8Array) || img.length !== pixels) {
      throw new Error(`embed: image ${i} has ${img?.length} bytes; expected ${size}×${size}×3 = ${pixels} (aligned RGB crop at the model's inputSize).`);
    }
  });
  return images.length;
}

/** Normalised NHWC floats of images [start, end). uint8 → (p − 127.5)/127.5 (insightface: ToTensor + Normalize(.5, .5)). */
function batchPixels(images: EmbedInput, start: number, end: number, pixels: number): Float32Array {
  if (images instanceof Float32Array) return images.subarray(start * pixels, end * pixels);
  const out = new Float32Array((end - start) * pixels);
  for (let i = start; i < end; i++) {
    const img = images[i]!;
    const base = (i - start) * pixels;
    for (let p = 0; p < pixels; p++) out[base + p] = (img[p]! - 127.5) / 127.5;
  }
  return out;
}

/** One batch through a tfjs model: raw embeddings summed over the views, and every view's raw norm. */
async function tensorBatch(model: Exclude<EmbeddingSource, AsyncEmbeddingModel>, pixels: Float32Array, b: number, size: number, flip: boolean) {
  const { sum, norms } = tf.tidy(() => {
    const x = tf.tensor4d(pixels, [b, size, size, 3]);
    const views = flip ? [x, tf.reverse(x, 2)] : [x];
    const embs = views.map((v) => model.apply(v as tf.Tensor4D, { training: false }));
    for (const e of embs) {
      if (e.rank !== 2 || e.shape[0] !== b) throw new Error(`embed: the model returned shape [${e.shape}]; expected [${b}, dim].`);
    }
    const norms = tf.concat(embs.map((e) => tf.norm(e, 'euclidean', 1)));
    return { sum: embs.length === 1 ? embs[0]!.clone() : tf.addN(embs), norms };
  });
  const [raw, rawNorms] = await Promise.all([sum.data() as Promise<Float32Array>, norms.data() as Promise<Float32Array>]);
  sum.dispose();
  norms.dispose();
  return { raw, rawNorms };
}

/** Mirror NHWC images left–right (tf.reverse on axis 2). */
function mirrorNhwc(x: Float32Array, b: number, size: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < size; y++) {
      const row = (n * size + y) * size;
      for (let c = 0; c < size; c++) out.set(x.subarray((row + c) * 3, (row + c) * 3 + 3), (row + size - 1 - c) * 3);
    }
  return out;
}

/** The same for a model that runs outside tfjs (ONNX Runtime): views, sums and norms in plain JS. */
async function asyncBatch(model: AsyncEmbeddingModel, pixels: Float32Array, b: number, size: number, flip: boolean) {
  const views = flip ? [pixels, mirrorNhwc(pixels, b, size)] : [pixels];
  const embs: Float32Array[] = [];
  for (const v of views) embs.push(await model.embed(v, b));
  for (const e of embs) {
    if (!(e instanceof Float32Array) || e.length === 0 || e.length % b !== 0) throw new Error(`embed: the model returned ${e?.length} values for ${b} images; expected [${b}, dim].`);
  }
  const dim = embs[0]!.length / b;
  const raw = new Float32Array(b * dim);
  const rawNorms = new Float32Array(b * views.length);
  embs.forEach((e, k) => {
    for (let r = 0; r < b; r++) {
      let ss = 0;
      for (let c = 0; c < dim; c++) {
        const v = e[r * dim + c]!;
        ss += v * v;
        raw[r * dim + c]! += v;
      }
      rawNorms[k * b + r] = Math.sqrt(ss);
    }
  });
  return { raw, rawNorms };
}

/**
 * Embed images with the insightface flip test, in batches, in inference mode, and report XNorm.
 * Embeddings are summed over the two views (raw, un-normalised, as AT/eval/verification.py) and then L2-normalised.
 */
export async function embedImages(model: EmbeddingSource, images: EmbedInput, opts: EmbedOptions = {}): Promise<EmbeddingBatchResult> {
  const size = model.inputSize;
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`embed: model.inputSize=${size} is not a positive integer.`);
  const batchSize = opts.batchSize ?? 64;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`embed: batchSize=${opts.batchSize} is invalid; use an integer ≥ 1.`);
  const flip = opts.flip ?? true;
  const n = checkInput(images, size);
  const pixels = size * size * 3;
  let dim = 0;
  let out = new Float32Array(0);
  let normSum = 0;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const b = end - start;
    const { raw, rawNorms } = isAsyncEmbeddingModel(model)
      ? await asyncBatch(model, batchPixels(images, start, end, pixels), b, size, flip)
      : await tensorBatch(model, batchPixels(images, start, end, pixels), b, size, flip);
    if (dim === 0) {
      dim = raw.length / b;
      out = new Float32Array(n * dim);
    }
    for (let i = 0; i < rawNorms.length; i++) normSum += rawNorms[i]!;
    for (let r = 0; r < b; r++) {
      let ss = 0;
      for (let c = 0; c < dim; c++) ss += raw[r * dim + c]! ** 2;
      if (!Number.isFinite(ss)) throw new Error(`embed: image ${start + r} gave a non-finite embedding; the model weights may be NaN.`);
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let c = 0; c < dim; c++) out[(start + r) * dim + c] = raw[r * dim + c]! * inv;
    }
    opts.onProgress?.(end, n);
  }
  return { embeddings: out, dim, count: n, xnorm: n > 0 ? normSum / (n * (flip ? 2 : 1)) : 0 };
}

/** Embed images (see `embedImages`); returns the [N, dim] L2-normalised embeddings, row-major. */
export async function embed(model: EmbeddingSource, images: EmbedInput, opts: EmbedOptions = {}): Promise<Float32Array> {
  return (await embedImages(model, images, opts)).embeddings;
}
