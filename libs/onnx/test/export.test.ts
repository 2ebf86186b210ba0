import { createBackbone, type Backbone, type BackboneOptions } from '@facet/backbones';
import { initEngine, mulberry32, tf } from '@facet/engine';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, importOnnxBackbone, loadOnnxModel } from '../src/index.js';
import { differingTensors, FIXTURES, floats, inputsNhwc, manifest, relToMax } from './helpers.js';

const tmp = mkdtempSync(join(os.tmpdir(), 'facet-onnx-export-'));
beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Random BN statistics, γ, β and PReLU slopes, so that every tensor matters to the output. */
function randomise(net: Backbone, seed: number): void {
  const rand = mulberry32(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const next: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(net.getWeights())) {
    const v = Float32Array.from(t.dataSync());
    const fill = (lo: number, hi: number) => v.forEach((_, i) => (v[i] = u(lo, hi)));
    if (name.endsWith('running_var')) fill(0.5, 1.5);
    else if (name.endsWith('running_mean') || (name.endsWith('.bias') && !name.startsWith('fc'))) fill(-0.2, 0.2);
    else if (v.length === t.shape[0] && t.rank === 1 && /prelu|layers\.2\.weight$/.test(name) && !name.startsWith('features')) fill(0.05, 0.5);
    else if (t.rank === 1 && name.endsWith('.weight')) fill(0.6, 1.4);
    next[name] = v;
  }
  net.setWeights(next);
}

function images(n: number, size: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * size * size * 3 }, () => rand() * 2 - 1);
}

const CASES: Array<{ name: string; options: BackboneOptions }> = [
  { name: 'iresnet18', options: { width: 0.0625, inputSize: 32, blocks: [1, 2, 1, 1], embeddingSize: 32 } },
  { name: 'mobilefacenet', options: { width: 0.0625, inputSize: 32, blocks: [1, 2, 2, 1], embeddingSize: 32 } },
  { name: 'mobilefacenet', options: { width: 0.0625, inputSize: 48, blocks: [2, 1, 0, 1], embeddingSize: 16 } },
  { name: 'mobilefacenet_orig', options: { width: 0.0625, inputSize: 32, blocks: [1, 2, 2, 1], embeddingSize: 32 } },
  // blocks[0] > 1: no depthwise layers.1 to tell the scale; the first expansion (twice the stem at scale 1) does
  { name: 'mobilefacenet_orig', options: { width: 0.125, inputSize: 48, blocks: [2, 1, 0, 1], embeddingSize: 16 } },
];

const pythonOnnx = spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status === 0;

describe('exportOnnx: Facet backbone → ONNX', () => {
  for (const c of CASES) {
    const label = `${c.name} ${JSON.stringify(c.options)}`;
    it(`${label}: ONNX Runtime on the exported file equals Facet's tfjs output; re-import is bit-exact`, async () => {
      const net = createBackbone(c.name, c.options);
      randomise(net, 7);
      const file = join(tmp, `${c.name}-${c.options.inputSize}.onnx`);
      const tensors = tf.memory().numTensors;
      const { bytes } = await exportOnnx(net, file);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(bytes).toBeGreaterThan(1000);
      expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const s = net.inputSize;
      const x = images(5, s, 11);
      const y = tf.tidy(() => net.apply(tf.tensor4d(x, [5, s, s, 3]), { training: false }));
      const facet = y.dataSync();
      y.dispose();
      const model = await loadOnnxModel(file);
      try {
        expect(model.inputName).toBe('input.1');
        expect(model.layout).toBe('NCHW');
        expect(model.staticBatch).toBeUndefined();
        expect(model.embeddingSize).toBe(net.embeddingSize);
        const ortOut = await model.embed(x, 5);
        const err = relToMax(ortOut, facet);
        console.log(`${label}: ONNX Runtime (exported) vs Facet tfjs cpu, max |Δ| / max |y| = ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-4);
      } finally {
        await model.dispose();
      }
      const back = await importOnnxBackbone(file);
      try {
        expect(back.network).toEqual({ name: c.name, options: c.options });
        expect(back.folded).toBe(false);
        expect(Object.keys(back.backbone.getWeights()).sort()).toEqual(Object.keys(net.getWeights()).sort());
        expect(differingTensors(back.backbone.getWeights(), net.getWeights())).toEqual([]);
      } finally {
        back.backbone.dispose();
        net.dispose();
      }
    });
  }

  it('PyTorch export → Facet → exportOnnx → ONNX Runtime reproduces PyTorch (folded files come back unfolded)', async () => {
    for (const m of manifest.models.filter((x) => x.facet && x.folded)) {
      const { backbone } = await importOnnxBackbone(join(FIXTURES, m.file));
      const file = join(tmp, `again-${m.file}`);
      await exportOnnx(backbone, file);
      backbone.dispose();
      const model = await loadOnnxModel(file);
      const { data, batch } = inputsNhwc();
      const err = relToMax(await model.embed(data, batch), floats(m.output));
      await model.dispose();
      console.log(`${m.file} → Facet → ONNX: ONNX Runtime vs PyTorch, max |Δ| / max |y| = ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    }
  });

  it('a static batch and other names: ONNX Runtime runs it chunk by chunk and still equals Facet', async () => {
    const net = createBackbone('mobilefacenet', CASES[1]!.options);
    randomise(net, 3);
    const file = join(tmp, 'static.onnx');
    await exportOnnx(net, file, { batch: 2, inputName: 'data', outputName: 'fc1', opset: 11 });
    const model = await loadOnnxModel(file);
    expect([model.inputName, model.outputName, model.staticBatch]).toEqual(['data', 'fc1', 2]);
    const x = images(3, 32, 5);
    const y = tf.tidy(() => net.apply(tf.tensor4d(x, [3, 32, 32, 3]), { training: false }));
    const err = relToMax(await model.embed(x, 3), y.dataSync());
    y.dispose();
    await model.dispose();
    expect(err).toBeLessThan(1e-4);
    const back = await importOnnxBackbone(file);
    expect(differingTensors(back.backbone.getWeights(), net.getWeights())).toEqual([]);
    back.backbone.dispose();
    net.dispose();
  });

  it('refuses what it cannot write, with the reason', async () => {
    const vit = createBackbone('vit_t', { inputSize: 18, patchSize: 9, depth: 1, embeddingSize: 8 });
    await expect(exportOnnx(vit, join(tmp, 'vit.onnx'))).rejects.toThrow('exportOnnx: vit_t cannot be exported to ONNX yet; IResNet and MobileFaceNet can.');
    vit.dispose();
    const net = createBackbone('mobilefacenet', CASES[1]!.options);
    await expect(exportOnnx(net, join(tmp, 'x.onnx'), { opset: 9 })).rejects.toThrow(/opset=9 is not supported/);
    await expect(exportOnnx(net, join(tmp, 'missing-dir', 'x.onnx'))).rejects.toThrow(/missing-dir\/x\.onnx: cannot write the ONNX file \(ENOENT\)/);
    net.dispose();
  });

  it.skipIf(!pythonOnnx)('the exported file passes onnx.checker (full check) in Python (runs only where /usr/bin/python3 has torch and onnx)', async () => {
    const net = createBackbone('iresnet18', CASES[0]!.options);
    const file = join(tmp, 'checker.onnx');
    await exportOnnx(net, file);
    net.dispose();
    const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });
});
