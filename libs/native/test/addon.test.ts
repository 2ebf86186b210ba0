// The addon's report, its one-line reason when unavailable, and memory: over many training steps on the native
// backend, tfjs's tensor count and the addon's own live allocations and cached primitives stay flat.
import { describe, expect, it, vi } from 'vitest';
import { availableParallelism } from 'node:os';
import { defaultThreads, nativeAddon, nativeStatus } from '../src/index.js';
import { addonLoaded, FACET_NAMES, maxAbs, maxAbsDiff, randomArray, tf } from './helpers.js';

describe('addon status', () => {
  it('says why and how to enable when the addon is unavailable', async () => {
    vi.resetModules();
    process.env.FACET_NATIVE_DISABLE = '1';
    try {
      const fresh = await import('../src/addon.js');
      const s = fresh.nativeStatus();
      expect(s.loaded).toBe(false);
      expect(s.loaded ? '' : s.reason).toMatch(/FACET_NATIVE_DISABLE/);
      expect(() => fresh.nativeAddon()).toThrow(/@facet\/native: disabled/);
      const { registerNativeBackend } = await import('../src/backend.js');
      const r = registerNativeBackend(tf);
      expect(r.ok).toBe(false);
    } finally {
      delete process.env.FACET_NATIVE_DISABLE;
      vi.resetModules();
    }
  });

  it.skipIf(!addonLoaded)('reports oneDNN version, ISA and threads', () => {
    const s = nativeStatus();
    if (!s.loaded) throw new Error(s.reason);
    console.log(`oneDNN ${s.info.version}, ISA ${s.info.isa}, ${s.info.threads} threads`);
    expect(s.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(s.info.isa).not.toBe('unknown');
    expect(s.info.threads).toBe(2); // as the tests asked
  });

  it('picks at least one and at most all cores by default', () => {
    const d = defaultThreads();
    expect(d.threads).toBeGreaterThanOrEqual(1);
    expect(d.threads).toBeLessThanOrEqual(availableParallelism());
    expect(d.why).toMatch(/cores/);
  });

  it.skipIf(!addonLoaded)('turns bad arguments into one-line errors', () => {
    const a = nativeAddon();
    expect(() => a.matmul(new Float32Array(6), new Float32Array(6), new Float32Array(4), [1, 1, 2, 3, 2, 0, 0])).not.toThrow();
    expect(() => a.matmul(new Float32Array(5), new Float32Array(6), new Float32Array(4), [1, 1, 2, 3, 2, 0, 0])).toThrow(/buffer lengths/);
    expect(() => a.conv(0, new Int32Array(4) as unknown as Float32Array, new Float32Array(1), new Float32Array(4), [])).toThrow(/src must be a Float32Array/);
  });
});

describe.skipIf(!addonLoaded)('memory over training steps on native', () => {
  it('tensor count, addon allocations and cached primitives stay flat', async () => {
    await tf.setBackend('native');
    const C = 16;
    const w1 = tf.variable(tf.tensor4d(randomArray(3 * 3 * 3 * C, 1).map((v) => v * 0.3), [3, 3, 3, C]));
    const dw = tf.variable(tf.tensor4d(randomArray(3 * 3 * C, 2).map((v) => v * 0.3), [3, 3, C, 1]));
    const alpha = tf.variable(tf.fill([C], 0.25));
    const gamma = tf.variable(tf.ones([C]));
    const beta = tf.variable(tf.zeros([C]));
    const fc = tf.variable(tf.tensor2d(randomArray(4 * 4 * C * 10, 3).map((v) => v * 0.1), [4 * 4 * C, 10]));
    const x = tf.tensor4d(randomArray(4 * 16 * 16 * 3, 4), [4, 16, 16, 3]);
    const labels = tf.oneHot(tf.tensor1d([1, 3, 5, 7], 'int32'), 10);
    const bn = (t: tf.Tensor) => {
      const f = tf.customGrad((...args: unknown[]) => {
        const [xi, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
        const [y, mean, , invStd] = tf.engine().runKernel(FACET_NAMES.batchNormTraining, { x: xi, gamma: g, beta: b }, { eps: 1e-5 }) as tf.Tensor[];
        save([xi, mean!, invStd!, g]);
        return { value: y!, gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => tf.engine().runKernel(FACET_NAMES.batchNormTrainingGrad, { x: s[0]!, dy, mean: s[1]!, invStd: s[2]!, gamma: s[3]! }) as tf.Tensor[] };
      });
      return f(t, gamma, beta) as tf.Tensor;
    };
    const opt = tf.train.sgd(0.01);
    const step = () => {
      const loss = opt.minimize(() => {
        let h: tf.Tensor = tf.conv2d(x, w1 as tf.Tensor4D, 2, 'same');
        h = tf.prelu(bn(h), alpha);
        h = tf.depthwiseConv2d(h as tf.Tensor4D, dw as tf.Tensor4D, 2, 'same');
        const logits = tf.matMul(h.reshape([4, -1]), fc);
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      }, true)!;
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    };
    const losses = [step(), step()];
    const tensors = tf.memory().numTensors;
    const before = nativeAddon().info();
    for (let i = 0; i < 30; i++) losses.push(step());
    const after = nativeAddon().info();
    console.log(`loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)}; tensors ${tensors} → ${tf.memory().numTensors}; addon allocations ${before.liveAllocations} → ${after.liveAllocations}, primitives ${before.cachedPrimitives} → ${after.cachedPrimitives}`);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(after.liveAllocations).toBe(before.liveAllocations);
    expect(after.cachedPrimitives).toBe(before.cachedPrimitives);
    // one reordered forward filter per live weight tensor: the old ones go with their tensors each step
    expect(after.cachedWeights).toBe(before.cachedWeights);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!); // it trains: the steps did real work
  });
});

describe.skipIf(!addonLoaded)('worker threads', () => {
  it('two worker threads run the addon concurrently (per-thread caches and scratchpads) and agree with this thread', async () => {
    const { Worker } = await import('node:worker_threads');
    const { ADDON_PATH } = await import('../src/index.js');
    const g = [2, 17, 15, 24, 3, 3, 1, 32, 9, 8, 2, 2, 1, 1, 1, 1, 1, 1];
    const x = randomArray(2 * 17 * 15 * 24, 11);
    const w = randomArray(3 * 3 * 24 * 32, 12);
    const want = new Float32Array(2 * 9 * 8 * 32);
    nativeAddon().conv(0, x, w, want, g);
    const code = `
      const { parentPort, workerData: d } = require('node:worker_threads');
      const addon = require(d.path);
      addon.setThreads(1);
      const y = new Float32Array(d.n);
      for (let i = 0; i < 50; i++) addon.conv(i % 3 === 0 ? 0 : i % 3, i % 3 === 1 ? new Float32Array(d.x.length) : d.x, i % 3 === 2 ? new Float32Array(d.w.length) : d.w, i % 3 === 0 ? y : d.dy, d.g);
      addon.conv(0, d.x, d.w, y, d.g);
      parentPort.postMessage(y);`;
    const dy = randomArray(want.length, 13);
    const run = () => new Promise<Float32Array>((resolve, reject) => {
      const wk = new Worker(code, { eval: true, workerData: { path: ADDON_PATH, x, w, dy, g, n: want.length } });
      wk.once('message', (m: Float32Array) => resolve(m));
      wk.once('error', reject);
    });
    const [a, b] = await Promise.all([run(), run()]);
    expect(maxAbsDiff(a, want)).toBeLessThan(1e-5 * maxAbs(want));
    expect(maxAbsDiff(b, want)).toBeLessThan(1e-5 * maxAbs(want));
  });
});
