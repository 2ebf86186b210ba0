import { initEngine, tf } from '@facet/engine';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnnxBackbone, loadOnnxModel } from '../src/index.js';
import { FIXTURES, floats, inputsNhwc, manifest, relToMax } from './helpers.js';

const tmp = mkdtempSync(join(os.tmpdir(), 'facet-onnx-rt-'));
beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadOnnxModel: ONNX Runtime on PyTorch exports', () => {
  for (const m of manifest.models) {
    it(`${m.file}: ONNX Runtime output equals PyTorch's`, async () => {
      const model = await loadOnnxModel(join(FIXTURES, m.file));
      try {
        expect(model.inputSize).toBe(manifest.inputSize);
        expect(model.embeddingSize).toBe(m.outputShape[1]);
        expect(model.threads).toBe(os.availableParallelism());
        expect(model.staticBatch).toBe(m.facet ? undefined : 1);
        expect(model.input).toBe('normalized');
        const { data, batch } = inputsNhwc();
        const got = await model.embed(data, batch);
        expect(got.length).toBe(batch * model.embeddingSize);
        const want = floats(m.output);
        const err = relToMax(got.subarray(0, want.length), want);
        console.log(`${m.file}: ONNX Runtime vs PyTorch, max |Δ| / max |y| = ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-5);
        if (m.facet) {
          // a tf tensor gives the same as the floats; and a batch equals its images run one by one
          const t = tf.tensor4d(data, [batch, manifest.inputSize, manifest.inputSize, 3]);
          expect(Array.from(await model.embed(t))).toEqual(Array.from(got));
          t.dispose();
          const px = manifest.inputSize ** 2 * 3;
          const third = await model.embed(data.subarray(2 * px), 1);
          expect(relToMax(third, got.subarray(2 * model.embeddingSize))).toBeLessThan(1e-6);
        } else {
          // static batch 1: three images ran one by one; each equals its own single-image run
          const second = await model.embed(data.subarray(manifest.inputSize ** 2 * 3, 2 * manifest.inputSize ** 2 * 3), 1);
          expect(Array.from(got.subarray(model.embeddingSize, 2 * model.embeddingSize))).toEqual(Array.from(second));
        }
      } finally {
        await model.dispose();
      }
    });
  }

  it('a graph of another architecture is named and refused for mapping, and still runs in ONNX Runtime', async () => {
    const file = join(FIXTURES, 'plain_cnn.onnx');
    const err = await importOnnxBackbone(file).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/plain_cnn\.onnx: graph is not an IResNet\/MobileFaceNet \(Facet cannot train or fine-tune it\): as (IResNet|MobileFaceNet), node 1 \(Relu '[^']*'\) is Relu where .*PRelu.* was expected/);
    expect(err?.message).toMatch(/It can still run for inference through ONNX Runtime \(facet embed\/eval --runtime onnx .*plain_cnn\.onnx; loadOnnxModel\)\.$/);
    expect(err?.message.split('\n')).toHaveLength(1);
    const model = await loadOnnxModel(file);
    expect((await model.embed(inputsNhwc().data.subarray(0, manifest.inputSize ** 2 * 3), 1)).length).toBe(16);
    await model.dispose();
  });

  it('a truncated file gives one error line naming the file, in both the importer and the runtime', async () => {
    const bytes = readFileSync(join(FIXTURES, 'mbf_folded.onnx'));
    const file = join(tmp, 'cut.onnx');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    for (const load of [() => importOnnxBackbone(file), () => loadOnnxModel(file)]) {
      const e = await load().then(
        () => undefined,
        (x: Error) => x,
      );
      expect(e?.message.startsWith(`${file}: `)).toBe(true);
      expect(e?.message).toMatch(/truncated/);
      expect(e?.message.split('\n')).toHaveLength(1);
    }
    const missing = join(tmp, 'nope.onnx');
    await expect(loadOnnxModel(missing)).rejects.toThrow(`${missing}: cannot read the ONNX file (ENOENT)`);
  });

  it('input of the wrong size is refused with the expected shape', async () => {
    const model = await loadOnnxModel(join(FIXTURES, 'mbf_folded.onnx'), { threads: 1, allowSpinning: false });
    try {
      await expect(model.embed(new Float32Array(10), 1)).rejects.toThrow(/expected NHWC 32×32×3 = 3072 per image/);
      const t = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
      await expect(model.embed(t)).rejects.toThrow(/\[1, 16, 16, 3\]; expected NHWC \[N, 32, 32, 3\]/);
      t.dispose();
      await expect(loadOnnxModel(join(FIXTURES, 'mbf_folded.onnx'), { inputSize: 112 })).rejects.toThrow(/inputSize 112 was given but the model's input is 32×32/);
    } finally {
      await model.dispose();
    }
  });
});
