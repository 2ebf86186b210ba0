// Import of files written by real PyTorch (tools/interop-fixtures/generate.py): Facet's embeddings of the imported
// backbone must equal PyTorch's eval-mode embeddings of the same images.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { importModel, type ImportReport } from '../src/index.js';
import { embed, fixture, fixtureImages, manifest, readF32, relativeMaxDiff } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});

describe('importModel on PyTorch-written fixtures', () => {
  for (const f of manifest.files) {
    it(`${f.file} (${f.layout}, ${f.dtype}${f.wrapped ? `, in ${f.wrapped}` : ''}${f.prefix ? `, ${f.prefix} prefix` : ''}${f.views ? `, ${f.views}` : ''}) matches PyTorch's embeddings`, async () => {
      const m = manifest.models[f.model]!;
      let report: ImportReport | undefined;
      const backbone = await importModel(fixture(f.file), { inputSize: m.input_size, onReport: (r) => (report = r) });
      try {
        expect(backbone.name.startsWith({ iresnet: 'iresnet', mobilefacenet: 'mobilefacenet', vit: 'vit_t' }[m.family]!)).toBe(true);
        expect(backbone.options.width).toBe(m.width);
        expect(backbone.options.blocks).toEqual(m.blocks);
        expect(backbone.embeddingSize).toBe(m.embedding_size);
        expect(report!.source.container).toBe(f.wrapped);
        expect(report!.source.strippedPrefix).toBe(f.prefix);
        expect(report!.numBatchesTracked).toBe(4); // the generator's four train-mode calibration passes
        const images = fixtureImages(m);
        const before = tf.memory().numTensors;
        const got = embed(backbone, images);
        expect(tf.memory().numTensors).toBe(before);
        images.dispose();
        const want = readF32(f.embeddings ?? m.embeddings);
        const r = relativeMaxDiff(got, want);
        console.log(`${f.file}: max |Facet − PyTorch| ${r.diff.toExponential(2)} of largest ${r.largest.toFixed(3)} → ${r.relative.toExponential(2)}`);
        expect(r.relative).toBeLessThan(1e-4);
      } finally {
        backbone.dispose();
      }
    });
  }

  it('detects the architecture and input side without being told (112 and 56 preferred, else 16·f)', async () => {
    let report: ImportReport | undefined;
    const mbf = await importModel(fixture('mbf.pth'), { onReport: (r) => (report = r) });
    expect(mbf.name).toBe('mobilefacenet');
    expect(mbf.inputSize).toBe(56);
    expect(report!.reasons.join('\n')).toMatch(/blocks \[1,2,2,1\]/);
    mbf.dispose();
    const r18 = await importModel(fixture('iresnet18.pth'), { onReport: (r) => (report = r) });
    expect(r18.name).toBe('iresnet18');
    expect(r18.options.blocks).toEqual([2, 2, 2, 2]);
    expect(r18.inputSize).toBe(32); // final map 2×2: 17…32, 32 = 16·2
    expect(report!.reasons.join('\n')).toMatch(/insightface r18/);
    r18.dispose();
  });
});
