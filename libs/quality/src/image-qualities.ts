// Every quality measure of a set of images in one pass (what `facet quality` reports): the RI head's ξ̂ (when the
// model has one), ERS against the UI centre, the embedding norm, and SER-FIQ. Quality measures use the raw
// single-view embedding (the RI head was trained on it); comparison embeddings for ERCs use insightface's flip test.
import type { Backbone } from '@facet/backbones';
import { tf } from '@facet/engine';
import { embeddingNorms, embeddingRecognizability } from './baseline-measures.js';
import type { QualityModel } from './quality-model.js';
import { predictRecognizability } from './recognizability-head.js';
import { serFiqScores } from './ser-fiq-score.js';
import { resolveStochasticOptions, stochasticEmbeddings, type StochasticEmbeddingOptions, type StochasticSite } from './stochastic-embeddings.js';
import { uiCenter } from './ui-center.js';
import { rowDot, unitRows } from './vectors.js';

/** Measure names in report order. */
export const QUALITY_MEASURES = ['ri', 'ers', 'norm', 'ser-fiq'] as const;
export type QualityMeasureName = (typeof QUALITY_MEASURES)[number];

export interface ImageQualityOptions {
  /** Images per forward pass. Default 32. */
  batchSize?: number;
  /** Comparison embeddings with the flip test (f(x) + f(mirror x)). Default true. */
  flip?: boolean;
  /** SER-FIQ settings, or false to skip it (it costs m head passes per image). Default { samples: 100, dropout: 0.5 }. */
  serFiq?: StochasticEmbeddingOptions | false;
  /** Measures to compute (default all that the quality model allows). */
  measures?: QualityMeasureName[];
  onProgress?: (done: number, total: number) => void;
}

export interface ImageQualities {
  count: number;
  dim: number;
  /** Raw single-view embeddings [N, D]. */
  raw: Float32Array;
  /** L2-normalised comparison embeddings [N, D] (flip-summed when flip is on). */
  embeddings: Float32Array;
  /** Per-image quality per measure (higher = better), in QUALITY_MEASURES order. */
  measures: Partial<Record<QualityMeasureName, Float64Array>>;
  /** Where SER-FIQ applied its dropout. */
  serFiqSite?: StochasticSite;
  /** Measures left out and why. */
  skipped: Array<{ measure: QualityMeasureName; reason: string }>;
}

function checkImages(images: Uint8Array[], size: number, what: string): void {
  if (!Array.isArray(images) || images.length === 0) throw new Error(`${what}: no images.`);
  const pixels = size * size * 3;
  images.forEach((img, i) => {
    if (!(img instanceof Uint8Array) || img.length !== pixels) throw new Error(`${what}: image ${i} has ${img?.length} bytes; expected ${size}×${size}×3 (an aligned RGB crop at the model's inputSize).`);
  });
}

function batchTensor(images: Uint8Array[], start: number, end: number, size: number): tf.Tensor4D {
  const pixels = size * size * 3;
  const data = new Float32Array((end - start) * pixels);
  for (let i = start; i < end; i++) for (let p = 0; p < pixels; p++) data[(i - start) * pixels + p] = (images[i]![p]! - 127.5) / 127.5;
  return tf.tensor4d(data, [end - start, size, size, 3]);
}

/** Raw single-view embeddings and flip-test comparison embeddings of uint8 RGB crops. */
export async function embedForQuality(
  backbone: Backbone,
  images: Uint8Array[],
  opts: {
    batchSize?: number;
    flip?: boolean;
    /** Called with each batch before it is embedded; may return the raw embeddings of x (saves that forward pass). */
    onBatch?: (x: tf.Tensor4D, start: number, end: number) => Float32Array | void;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<{ raw: Float32Array; embeddings: Float32Array; dim: number }> {
  const size = backbone.inputSize;
  checkImages(images, size, 'embedForQuality');
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embedForQuality: batchSize must be an integer ≥ 1 (got ${batchSize}).`);
  const n = images.length;
  const d = backbone.embeddingSize;
  const raw = new Float32Array(n * d);
  const cmp = new Float32Array(n * d);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const x = batchTensor(images, start, end, size);
    const given = opts.onBatch?.(x, start, end);
    const [r, c] = tf.tidy(() => {
      const e = given ? tf.tensor2d(given, [end - start, d]) : backbone.apply(x, { training: false });
      const sum = opts.flip === false ? e : tf.add(e, backbone.apply(tf.reverse(x, 2) as tf.Tensor4D, { training: false }));
      return [e.dataSync() as Float32Array, sum.dataSync() as Float32Array];
    });
    raw.set(r, start * d);
    cmp.set(c, start * d);
    x.dispose();
    opts.onProgress?.(end, n);
    await new Promise((res) => setImmediate(res));
  }
  return { raw, embeddings: Float32Array.from(unitRows(cmp, d)), dim: d };
}

/** Quality of each image under every measure the model allows. */
export async function imageQualities(backbone: Backbone, images: Uint8Array[], quality: QualityModel | undefined, opts: ImageQualityOptions = {}): Promise<ImageQualities> {
  if (quality && quality.embeddingSize !== backbone.embeddingSize) {
    throw new Error(`imageQualities: the quality model is for ${quality.embeddingSize}-d embeddings, the backbone gives ${backbone.embeddingSize}-d; rebuild its UI centre with this model.`);
  }
  const wanted = new Set(opts.measures ?? QUALITY_MEASURES);
  for (const m of wanted) if (!QUALITY_MEASURES.includes(m)) throw new Error(`imageQualities: unknown measure ${String(m)}; use ${QUALITY_MEASURES.join(', ')}.`);
  const skipped: ImageQualities['skipped'] = [];
  const ser = wanted.has('ser-fiq') && opts.serFiq !== false ? resolveStochasticOptions(opts.serFiq || {}) : undefined;
  if (wanted.has('ser-fiq') && !ser) skipped.push({ measure: 'ser-fiq', reason: 'disabled' });
  const d = backbone.embeddingSize;
  const serSamples: Float64Array = new Float64Array(ser ? images.length : 0);
  let site: StochasticSite | undefined;
  let call = 0;
  const emb = await embedForQuality(backbone, images, {
    ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
    ...(opts.flip !== undefined ? { flip: opts.flip } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    onBatch: (x, start) => {
      if (!ser) return;
      const s = stochasticEmbeddings(backbone, x, ser, call++);
      site = s.site;
      serSamples.set(serFiqScores(s.samples, ser.samples, d), start);
      return s.embeddings;
    },
  });
  const measures: ImageQualities['measures'] = {};
  if (wanted.has('ri')) {
    if (quality?.head) measures.ri = predictRecognizability(quality.head, emb.raw);
    else skipped.push({ measure: 'ri', reason: 'the model has no RI head (train with --recognizability)' });
  }
  if (wanted.has('ers')) {
    if (quality?.uiCenter) measures.ers = embeddingRecognizability(emb.raw, quality.uiCenter);
    else skipped.push({ measure: 'ers', reason: 'no UI centre (build one with --ui-images or --ui-degrade)' });
  }
  if (wanted.has('norm')) measures.norm = embeddingNorms(emb.raw, d);
  if (ser) measures['ser-fiq'] = serSamples;
  return { count: images.length, dim: d, raw: emb.raw, embeddings: emb.embeddings, measures, ...(site ? { serFiqSite: site } : {}), skipped };
}

/** UI centre of a backbone from images of unrecognizable faces (a user folder, or unrecognizableImages(...)). */
export async function buildUiCenter(
  backbone: Backbone,
  images: Uint8Array[],
  opts: { batchSize?: number; source?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<QualityModel & { uiCenter: Float32Array; uiRadius: number; uiCount: number }> {
  const emb = await embedForQuality(backbone, images, { flip: false, ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const d = backbone.embeddingSize;
  const center = uiCenter(emb.raw, d);
  const unit = unitRows(emb.raw, d);
  let radius = 0;
  for (let i = 0; i < images.length; i++) radius += (1 - rowDot(unit, i, center, 0, d)) / images.length;
  return { embeddingSize: d, uiCenter: center, uiRadius: radius, uiCount: images.length, uiSource: opts.source ?? `${images.length} images` };
}
