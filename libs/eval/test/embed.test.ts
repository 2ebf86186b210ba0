import { initEngine, tf } from '@facet/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { embed, embedDataset, embedImages, evaluateIdentification, evaluatePairs, identification, verify, type AsyncEmbeddingModel, type EmbeddingModel } from '../src/index.js';
import { rng } from './reference.js';

const S = 8;
const D = 5;

/** A tiny conv net that is not mirror-symmetric (so the flip test changes the result). */
function tinyModel(seed: number): EmbeddingModel & { dispose(): void } {
  const r = rng(seed);
  const w = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  const k = tf.tensor4d(w(3 * 3 * 3 * 4), [3, 3, 3, 4]);
  const dense = tf.tensor2d(w(S * S * 4 * D), [S * S * 4, D]);
  return {
    inputSize: S,
    apply: (x) => tf.tidy(() => tf.matMul(tf.relu(tf.conv2d(x, k, 1, 'same')).reshape([x.shape[0], -1]), dense)) as tf.Tensor2D,
    dispose: () => tf.dispose([k, dense]),
  };
}

function images(n: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Uint8Array.from({ length: S * S * 3 }, () => Math.floor(r() * 256)));
}

/** Mirror an HWC image left–right in plain JS. */
function mirror(img: Uint8Array): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) out[(y * S + x) * 3 + c] = img[(y * S + (S - 1 - x)) * 3 + c]!;
  return out;
}

/** One raw embedding, one image at a time, from normalised pixels. */
function rawEmbedding(model: EmbeddingModel, img: Uint8Array): Float64Array {
  const out = tf.tidy(() => model.apply(tf.tensor4d(Float32Array.from(img, (p) => (p - 127.5) / 127.5), [1, S, S, 3])).dataSync());
  return Float64Array.from(out);
}

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('embed', () => {
  it('flip test = f(x) + f(mirror x), then L2-normalised, over uneven batches, without leaking tensors', async () => {
    const model = tinyModel(1);
    const imgs = images(7, 2);
    const before = tf.memory().numTensors;
    const progress: Array<[number, number]> = [];
    const got = await embedImages(model, imgs, { batchSize: 3, onProgress: (d, t) => progress.push([d, t]) });
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual([[3, 7], [6, 7], [7, 7]]);
    expect(got.dim).toBe(D);
    let xnorm = 0;
    imgs.forEach((img, i) => {
      const a = rawEmbedding(model, img);
      const b = rawEmbedding(model, mirror(img));
      xnorm += Math.hypot(...a) + Math.hypot(...b);
      const sum = a.map((v, c) => v + b[c]!);
      const norm = Math.hypot(...sum);
      for (let c = 0; c < D; c++) expect(got.embeddings[i * D + c]).toBeCloseTo(sum[c]! / norm, 5);
      // The mirror matters for this model: the plain embedding differs.
      const plain = a.map((v) => v / Math.hypot(...a));
      expect(Math.max(...plain.map((v, c) => Math.abs(v - got.embeddings[i * D + c]!)))).toBeGreaterThan(1e-3);
    });
    expect(got.xnorm).toBeCloseTo(xnorm / 14, 3);
    model.dispose();
  });

  it('flip=false normalises f(x); a normalised Float32Array gives the same as uint8 images', async () => {
    const model = tinyModel(4);
    const imgs = images(5, 6);
    const noFlip = await embed(model, imgs, { flip: false, batchSize: 2 });
    imgs.forEach((img, i) => {
      const a = rawEmbedding(model, img);
      const n = Math.hypot(...a);
      for (let c = 0; c < D; c++) expect(noFlip[i * D + c]).toBeCloseTo(a[c]! / n, 5);
    });
    const nhwc = new Float32Array(5 * S * S * 3);
    imgs.forEach((img, i) => nhwc.set(Float32Array.from(img, (p) => (p - 127.5) / 127.5), i * S * S * 3));
    const fromU8 = await embed(model, imgs);
    const fromF32 = await embed(model, nhwc, { batchSize: 4 });
    for (let i = 0; i < fromU8.length; i++) expect(fromF32[i]).toBeCloseTo(fromU8[i]!, 6);
    model.dispose();
  });

  it('names the bad image and the expected size', async () => {
    const model = tinyModel(5);
    await expect(embed(model, [new Uint8Array(S * S * 3), new Uint8Array(10)])).rejects.toThrow(/image 1 has 10 bytes; expected 8×8×3 = 192/);
    await expect(embed(model, new Float32Array(100))).rejects.toThrow(/not a whole number of 8×8×3 images/);
    await expect(embed(model, images(1, 1), { batchSize: 0 })).rejects.toThrow(/batchSize=0/);
    model.dispose();
  });
});

/** The tfjs model behind the async contract (as an ONNX Runtime model presents itself): floats in, floats out. */
function asAsync(model: EmbeddingModel, calls: number[]): AsyncEmbeddingModel {
  return {
    inputSize: model.inputSize,
    embed: async (x, batch) => {
      calls.push(batch);
      return tf.tidy(() => model.apply(tf.tensor4d(x, [batch, S, S, 3])).dataSync() as Float32Array);
    },
  };
}

describe('async embedding sources (models outside tfjs)', () => {
  it('give the tfjs path’s flip-test embeddings and XNorm, batch by batch, without tensors left', async () => {
    const model = tinyModel(11);
    const imgs = images(24, 12);
    const calls: number[] = [];
    const before = tf.memory().numTensors;
    const viaAsync = await embedImages(asAsync(model, calls), imgs.slice(0, 7), { batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual([3, 3, 3, 3, 1, 1]); // both views of each batch
    const viaTf = await embedImages(model, imgs.slice(0, 7), { batchSize: 3 });
    expect(viaAsync.dim).toBe(D);
    for (let i = 0; i < viaTf.embeddings.length; i++) expect(viaAsync.embeddings[i]).toBeCloseTo(viaTf.embeddings[i]!, 6);
    expect(viaAsync.xnorm).toBeCloseTo(viaTf.xnorm, 5);
    const noFlip = await embed(asAsync(model, []), imgs, { flip: false });
    const noFlipTf = await embed(model, imgs, { flip: false });
    for (let i = 0; i < noFlip.length; i++) expect(noFlip[i]).toBeCloseTo(noFlipTf[i]!, 6);
    const issame = Array.from({ length: 12 }, (_, k) => k % 3 === 0);
    const ev = await evaluatePairs(asAsync(model, []), { name: 'toy', imagesA: imgs.slice(0, 12), imagesB: imgs.slice(12), issame }, { batchSize: 5 });
    const evTf = await evaluatePairs(model, { name: 'toy', imagesA: imgs.slice(0, 12), imagesB: imgs.slice(12), issame }, { batchSize: 5 });
    expect(ev.report.accuracy.folds.map((f) => f.testAccuracy)).toEqual(evTf.report.accuracy.folds.map((f) => f.testAccuracy));
    expect(ev.report.auc).toBeCloseTo(evTf.report.auc, 6);
    const broken: AsyncEmbeddingModel = { inputSize: S, embed: async () => new Float32Array(0) };
    await expect(embed(broken, imgs, { batchSize: 64 })).rejects.toThrow(/returned 0 values for 24 images/);
    model.dispose();
  });
});

describe('evaluatePairs / embedDataset / evaluateIdentification', () => {
  it('equal embedding then verify / identification by hand', async () => {
    const model = tinyModel(7);
    const imgs = images(24, 8);
    const labels = Int32Array.from({ length: 24 }, (_, i) => i % 6);
    const all = await embedImages(model, imgs, { batchSize: 5 });
    // Datasets are read one batch at a time.
    let maxRead = 0;
    const ds = { size: 24, labels, read: async (i: number) => ((maxRead = Math.max(maxRead, i)), imgs[i]!) };
    const progress: number[] = [];
    const viaDs = await embedDataset(model, ds, { batchSize: 10, onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([10, 20, 24]);
    expect(maxRead).toBe(23);
    for (let i = 0; i < all.embeddings.length; i++) expect(viaDs.embeddings[i]).toBeCloseTo(all.embeddings[i]!, 6);
    expect(viaDs.xnorm).toBeCloseTo(all.xnorm, 4);

    const issame = Array.from({ length: 12 }, (_, k) => k % 3 === 0);
    const ev = await evaluatePairs(model, { name: 'toy', imagesA: imgs.slice(0, 12), imagesB: imgs.slice(12), issame }, { batchSize: 7 });
    const ref = verify(all.embeddings.subarray(0, 12 * D), all.embeddings.subarray(12 * D), issame, { dim: D });
    expect(ev.report.accuracy.folds.map((f) => f.testAccuracy)).toEqual(ref.accuracy.folds.map((f) => f.testAccuracy));
    expect(ev.report.auc).toBeCloseTo(ref.auc, 6);
    await expect(evaluatePairs(model, { name: 'bad', imagesA: imgs.slice(0, 2), imagesB: imgs.slice(0, 1), issame: [true, false] })).rejects.toThrow(/bad: 2\/1 images for 2 pairs/);

    const id = evaluateIdentification(all.embeddings, labels, D, { seed: 4 });
    expect(id.gallery.length).toBe(6);
    expect(id.probes.length).toBe(18);
    const pick = (idx: Int32Array) => ({
      embeddings: Float32Array.from({ length: idx.length * D }, (_, k) => all.embeddings[idx[Math.floor(k / D)]! * D + (k % D)]!),
      labels: Int32Array.from(idx, (i) => labels[i]!),
    });
    expect(id.result.cmc).toEqual(identification(pick(id.gallery), pick(id.probes)).cmc);
    expect(() => evaluateIdentification(all.embeddings.subarray(0, 6 * D), labels.subarray(0, 6), D)).toThrow(/no probes/);
    model.dispose();
  });
});
