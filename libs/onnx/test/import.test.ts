import { initEngine, tf } from '@facet/engine';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnxBackbone } from '../src/index.js';
import { FIXTURES, floats, inputsNhwc, manifest, relToMax } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});

describe('importOnnxBackbone: PyTorch-exported graphs onto Facet backbones', () => {
  for (const m of manifest.models.filter((x) => x.facet)) {
    it(`${m.file}: detects ${m.facet!.network} and reproduces PyTorch's embeddings`, async () => {
      const tensorsAtStart = tf.memory().numTensors;
      const { backbone, network, detectedBecause, folded } = await importOnnxBackbone(join(FIXTURES, m.file));
      try {
        expect(network.options).toMatchObject({ width: m.facet!.width, blocks: m.facet!.blocks, embeddingSize: m.facet!.embeddingSize, inputSize: manifest.inputSize });
        expect(backbone.name.startsWith(m.facet!.network)).toBe(true);
        expect(folded).toBe(m.folded);
        expect(detectedBecause).toMatch(m.facet!.network === 'iresnet' ? /^IResNet/ : /^MobileFaceNet/);
        const { data, batch, size } = inputsNhwc();
        const before = tf.memory().numTensors;
        const y = tf.tidy(() => backbone.apply(tf.tensor4d(data, [batch, size, size, 3]), { training: false }));
        const got = y.dataSync();
        y.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const want = floats(m.output);
        const err = relToMax(got, want);
        console.log(`${m.file}: Facet (tfjs cpu) vs PyTorch, max |Δ| / max |y| = ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-4);
      } finally {
        backbone.dispose();
      }
      expect(tf.memory().numTensors).toBe(tensorsAtStart); // import + dispose leaves nothing behind
    });
  }
});
