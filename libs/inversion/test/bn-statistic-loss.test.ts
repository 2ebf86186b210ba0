import { createBackbone } from '@facet/backbones';
import { initEngine, tf } from '@facet/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { bnLayerStatisticDistance, bnStatisticLoss, forwardWithBnStatistics } from '../src/index.js';
import { bnLoss64, finiteDifferences, maxAbs, maxAbsDiff, randomArray, tinyBackbone, tinyBnInputs64, tinyParams } from './tiny-net.js';

const N = 3;
const H = 5;
const W = 5;
const p = tinyParams(7);
const x64 = randomArray(N * H * W * 3, 99);
const x = () => tf.tensor4d(Float32Array.from(x64), [N, H, W, 3]);

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('bnStatisticLoss on a tiny conv+BN network', () => {
  const model = () => tinyBackbone(p, H);

  for (const form of ['paper', 'deepinversion'] as const) {
    it(`${form} form: value and input gradient match a float64 reference (finite differences)`, () => {
      const m = model();
      const before = tf.memory().numTensors;
      const xt = x();
      const loss = bnStatisticLoss(m, xt, { form, firstLayerMultiplier: 3, include1d: true });
      const value = loss.dataSync()[0]!;
      const grad = tf.grad((z) => bnStatisticLoss(m, z as tf.Tensor4D, { form, firstLayerMultiplier: 3, include1d: true }))(xt);
      const g = grad.dataSync();
      tf.dispose([loss, grad, xt]);
      expect(tf.memory().numTensors).toBe(before);
      m.dispose();

      const ref = (z: Float64Array) => bnLoss64(p, tinyBnInputs64(p, z, N, H, W), form, 3);
      const refValue = ref(x64);
      expect(refValue).toBeGreaterThan(0.1); // the statistics really differ: a test that can fail
      expect(Math.abs(value - refValue) / refValue).toBeLessThan(1e-4);
      const refGrad = finiteDifferences(ref, x64);
      expect(maxAbs(refGrad)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(g, refGrad) / maxAbs(refGrad)).toBeLessThan(2e-3);
    });
  }

  it('BN1d layers: left out by auto below 64 images, counted with include1d: true', () => {
    const m = model();
    const xt = x();
    const [auto, forced, layersAuto, layersForced] = tf.tidy(() => {
      const a = forwardWithBnStatistics(m, xt);
      const f = forwardWithBnStatistics(m, xt, { include1d: true });
      return [a.loss.dataSync()[0]!, f.loss.dataSync()[0]!, a.layers, f.layers];
    });
    expect([layersAuto, layersForced]).toEqual([2, 3]);
    const inputs = tinyBnInputs64(p, x64, N, H, W);
    expect(Math.abs(auto - bnLoss64(p, inputs, 'paper', 1, [0, 1])) / auto).toBeLessThan(1e-4);
    expect(Math.abs(forced - bnLoss64(p, inputs, 'paper', 1, [0, 1, 2])) / forced).toBeLessThan(1e-4);
    xt.dispose();
    m.dispose();
  });

  it('is zero when the batch statistics equal the running statistics (closed form)', () => {
    // build a BN layer whose running stats are the input's own biased batch statistics
    const a64 = randomArray(4 * 3 * 3 * 2, 5);
    const a = tf.tensor4d(Float32Array.from(a64), [4, 3, 3, 2]);
    const mean = [0, 1].map((c) => a64.filter((_, i) => i % 2 === c).reduce((s, v) => s + v, 0) / 36);
    const vari = [0, 1].map((c) => a64.filter((_, i) => i % 2 === c).reduce((s, v) => s + (v - mean[c]!) ** 2, 0) / 36);
    const layer = {
      name: 'bn',
      channels: 2,
      eps: 1e-5,
      momentum: 0.1,
      runningMean: tf.variable(tf.tensor1d(mean)),
      runningVar: tf.variable(tf.tensor1d(vari)),
      weight: tf.variable(tf.ones([2])),
      bias: tf.variable(tf.zeros([2])),
    };
    const paper = bnLayerStatisticDistance(layer, a, 'paper');
    const di = bnLayerStatisticDistance(layer, a, 'deepinversion');
    expect(paper.dataSync()[0]).toBeLessThan(1e-10);
    expect(di.dataSync()[0]).toBeLessThan(1e-5);
    // shifting every channel's mean by 0.5 gives ‖(0.5, 0.5)‖² = 0.5 (paper) and ‖·‖ = √0.5 (DeepInversion)
    const shifted = tf.add(a, 0.5) as tf.Tensor4D;
    expect(bnLayerStatisticDistance(layer, shifted, 'paper').dataSync()[0]).toBeCloseTo(0.5, 5);
    expect(bnLayerStatisticDistance(layer, shifted, 'deepinversion').dataSync()[0]).toBeCloseTo(Math.SQRT1_2, 4);
  });

  it('reads every BN layer of a real backbone (IResNet) in inference mode; wasm matches the cpu backend', async () => {
    const net = createBackbone('iresnet18', { width: 0.125, inputSize: 16, embeddingSize: 8, seed: 3 });
    const xt = tf.tensor4d(Float32Array.from(randomArray(2 * 16 * 16 * 3, 11)), [2, 16, 16, 3]);
    const run = () =>
      tf.tidy(() => {
        const r = forwardWithBnStatistics(net, xt, { include1d: true });
        const g = tf.grad((z) => bnStatisticLoss(net, z as tf.Tensor4D, { include1d: true }))(xt);
        return { loss: r.loss.dataSync()[0]!, layers: r.layers, grad: g.dataSync() as Float32Array };
      });
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await tf.setBackend('wasm');
    expect(wasm.layers).toBe(net.batchNorms().length);
    expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-4);
    expect(maxAbsDiff(wasm.grad, cpu.grad) / maxAbs(cpu.grad)).toBeLessThan(1e-3);
    // running stats are untouched: the prior reads them, the forward never updates them
    const rm = net.batchNorms()[0]!.runningMean.dataSync();
    expect(Array.from(rm).every((v) => v === 0)).toBe(true);
    xt.dispose();
    net.dispose();
  });

  it('refuses a model without BatchNorm with a clear message', () => {
    const fake = { name: 'nobn', embeddingSize: 2, inputSize: 4, apply: (z: tf.Tensor4D) => tf.reshape(tf.mean(z, [1, 2]), [z.shape[0], 3]) };
    const xt = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    expect(() => bnStatisticLoss(fake as never, xt)).toThrow(/no BatchNorm layer/);
    xt.dispose();
  });
});
