// Fine-tuning a BN-folded ONNX export (the form of most published face models): `--init model.onnx` starts from the
// import, BatchNorm stays in inference mode (the default with --init), so the first training forward reproduces ONNX
// Runtime's embeddings of the original file, and the folded statistics (μ = 0, σ² = 1 − ε) never move.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, initModelFolder, loadBackbone, loadOnnxModel, resolveConfig, train } from '../src/index.js';

// original MobileFaceNet (width 0.1875, 128-d) exported by torch 1.13 in eval mode with constant folding, static batch 1
const fixture = join(__dirname, '..', '..', 'onnx', 'test', 'fixtures', 'mfn_orig', 'mfn_orig_static1_convhead.onnx');

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'facet-cache-'));
});

describe('fine-tuning a BN-folded ONNX model', () => {
  it('the first training forward equals ONNX Runtime on the original file; statistics stay folded', async () => {
    const folder = await initModelFolder(fixture);
    const init = await loadBackbone(folder);
    const before = Object.fromEntries(init.batchNorms().map((l) => [l.name, [l.runningMean.dataSync().slice(), l.runningVar.dataSync().slice()]]));
    init.dispose();
    let first: { images: Float32Array; embeddings: Float32Array } | undefined;
    let images: Float32Array | undefined;
    // as `facet train --init model.onnx`: the file imported into the cache, the run started from that folder
    const cfg = resolveConfig({ overrides: {
      init: folder, dataset: 'synthetic:identities=4,images=4', batchSize: 8, lr: 0.1, lrReferenceBatch: 8, numEpoch: 1,
      scale: 16, maxSteps: 2, augment: 'none', output: mkdtempSync(join(tmpdir(), 'facet-ft-onnx-')), backend: 'wasm',
    } });
    const run = await train(cfg, {
      hooks: {
        beforeStep: (batch, step) => { if (step === 0) images = batch.images.slice(); },
        embeddings: (emb, step) => { if (step === 0) first = { images: images!, embeddings: emb.dataSync().slice() as Float32Array }; },
      },
    });
    const ort = await loadOnnxModel(fixture);
    const reference = await ort.embed(first!.images, 8);
    await ort.dispose();
    const scale = Math.max(...reference.map(Math.abs));
    const diff = Math.max(...first!.embeddings.map((v, i) => Math.abs(v - reference[i]!)));
    expect(diff / scale).toBeLessThan(1e-4);
    const after = await loadBackbone(run.modelDir);
    for (const l of after.batchNorms()) {
      expect(Array.from(l.runningMean.dataSync()), l.name).toEqual(Array.from(before[l.name]![0]!));
      expect(Array.from(l.runningVar.dataSync()), l.name).toEqual(Array.from(before[l.name]![1]!));
    }
    expect(after.name).toBe('mobilefacenet_orig');
    after.dispose();
  }, 180_000);
});
