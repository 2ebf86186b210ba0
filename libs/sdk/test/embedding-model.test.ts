// openEmbeddingModel: the same model folder through ONNX Runtime (its cached ONNX export) and through tfjs gives the
// same embeddings; an .onnx file runs in either; what cannot go to ONNX says so or falls back under 'auto'.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackbone, embedImages, exportOnnx, initEngine, openEmbeddingModel, saveBackbone, tf } from '../src/index.js';

let dir: string;
const S = 32;
const images = Float32Array.from({ length: 3 * S * S * 3 }, (_, i) => Math.sin(i * 0.37));

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'facet-cache-'));
  dir = mkdtempSync(join(tmpdir(), 'facet-emb-'));
  const b = createBackbone('iresnet18', { width: 0.125, inputSize: S, embeddingSize: 16, seed: 3 });
  await saveBackbone(b, join(dir, 'r18'));
  await exportOnnx(b, join(dir, 'r18.onnx'));
  b.dispose();
  const v = createBackbone('vit_t', { inputSize: S, embeddingSize: 16, width: 0.125, patchSize: 8, depth: 1, seed: 3 });
  await saveBackbone(v, join(dir, 'vit'));
  v.dispose();
});

async function embedWith(path: string, runtime: 'auto' | 'onnx' | 'tfjs') {
  const m = await openEmbeddingModel(path, { runtime, threads: 1 });
  try {
    return { runtime: m.runtime, emb: (await embedImages(m.model, images, { flip: false })).embeddings };
  } finally {
    await m.dispose();
  }
}

const relDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!))) / Math.max(...a.map(Math.abs));

describe('openEmbeddingModel', () => {
  it('runs a model folder in ONNX Runtime (auto) and in tfjs with the same embeddings; the export is cached', async () => {
    const tfjs = await embedWith(join(dir, 'r18'), 'tfjs');
    const auto = await embedWith(join(dir, 'r18'), 'auto');
    expect([tfjs.runtime, auto.runtime]).toEqual(['tfjs', 'onnx']);
    expect(relDiff(tfjs.emb, auto.emb)).toBeLessThan(1e-5);
    const cache = join(process.env.XDG_CACHE_HOME!, 'facet', 'onnx');
    const [file] = readdirSync(cache);
    const t = statSync(join(cache, file!)).mtimeMs;
    await embedWith(join(dir, 'r18'), 'onnx');
    expect(readdirSync(cache)).toEqual([file]);
    expect(statSync(join(cache, file!)).mtimeMs).toBe(t);
  });

  it('runs an .onnx file in ONNX Runtime or mapped onto a tfjs backbone', async () => {
    const ort = await embedWith(join(dir, 'r18.onnx'), 'auto');
    const tfjs = await embedWith(join(dir, 'r18.onnx'), 'tfjs');
    expect([ort.runtime, tfjs.runtime]).toEqual(['onnx', 'tfjs']);
    expect(relDiff(tfjs.emb, ort.emb)).toBeLessThan(1e-5);
  });

  it('keeps a ViT on tfjs under auto and says why --runtime onnx cannot run it', async () => {
    const before = tf.memory().numTensors;
    expect((await embedWith(join(dir, 'vit'), 'auto')).runtime).toBe('tfjs');
    await expect(openEmbeddingModel(join(dir, 'vit'), { runtime: 'onnx' })).rejects.toThrow(/--runtime onnx: vit_t does not export to ONNX/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
