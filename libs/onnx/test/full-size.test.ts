// insightface's own sizes (112², 512-d): the registry names come back from the graph, and the 7×7 flatten of
// IResNet's fc is permuted right at full size. The forward comparison runs on MobileFaceNet only (the cpu backend
// would take minutes for an IResNet at 112²).
import { createBackbone } from '@facet/backbones';
import { initEngine, mulberry32, tf } from '@facet/engine';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, importOnnxBackbone, loadOnnxModel } from '../src/index.js';
import { differingTensors, relToMax } from './helpers.js';

const tmp = mkdtempSync(join(os.tmpdir(), 'facet-onnx-full-'));
beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('full-size insightface networks', () => {
  it('mobilefacenet 112²: detected by name, bit-exact round trip, ONNX Runtime equals Facet', async () => {
    const net = createBackbone('mobilefacenet');
    const file = join(tmp, 'mbf.onnx');
    await exportOnnx(net, file);
    const back = await importOnnxBackbone(file);
    expect(back.network).toEqual({ name: 'mobilefacenet', options: { inputSize: 112, width: 1, embeddingSize: 512, blocks: [1, 4, 6, 2] } });
    expect(differingTensors(back.backbone.getWeights(), net.getWeights())).toEqual([]);
    back.backbone.dispose();
    const rand = mulberry32(3);
    const x = Float32Array.from({ length: 2 * 112 * 112 * 3 }, () => rand() * 2 - 1);
    const y = tf.tidy(() => net.apply(tf.tensor4d(x, [2, 112, 112, 3]), { training: false }));
    const facet = y.dataSync();
    y.dispose();
    net.dispose();
    const model = await loadOnnxModel(file);
    const err = relToMax(await model.embed(x, 2), facet);
    await model.dispose();
    console.log(`mobilefacenet 112²: ONNX Runtime vs Facet tfjs cpu ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  it('iresnet18 112²: detected by name, fc columns permuted back and forth bit-exactly', async () => {
    const net = createBackbone('iresnet18');
    const file = join(tmp, 'r18.onnx');
    await exportOnnx(net, file);
    const back = await importOnnxBackbone(file);
    expect(back.network.name).toBe('iresnet18');
    expect(back.detectedBecause).toMatch(/stages \[2,2,2,2\].*flatten of a 7×7 map/);
    expect(differingTensors(back.backbone.getWeights(), net.getWeights())).toEqual([]);
    back.backbone.dispose();
    net.dispose();
  });
});
