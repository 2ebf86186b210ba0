// foldBatchNorm (inference): BN folded into the convolution before it and PReLU fused must compute the same function
// as the unfused network, on nets whose BN statistics, affine parameters and PReLU slopes are all non-trivial.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { createBackbone, type Backbone } from '../src/index.js';
import { maxAbs, maxAbsDiff, randomArray, randomImages } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

/** Random BN running stats / γ / β and PReLU slopes, so that a wrong fold cannot hide behind identity BNs. */
function randomizeNormalization(net: Backbone, seed: number): void {
  const w = net.getWeights();
  const next: Record<string, Float32Array> = {};
  let s = seed;
  for (const [name, t] of Object.entries(w)) {
    const v = t.dataSync() as Float32Array;
    const r = randomArray(v.length, s++);
    if (name.endsWith('running_var')) next[name] = r.map((x) => 0.5 + 0.5 * (x + 1));
    else if (name.endsWith('running_mean') || name.endsWith('.bias')) next[name] = r.map((x) => 0.2 * x);
    else if (t.rank === 1 && name.endsWith('.weight')) next[name] = r.map((x) => 0.25 + 0.5 * x); // BN γ, PReLU α
    else next[name] = Float32Array.from(v);
  }
  net.setWeights(next);
}

function kernelsOf(fn: () => tf.Tensor): Promise<string[]> {
  return tf.profile(() => fn()).then((p) => {
    tf.dispose(p.result as tf.Tensor);
    return p.kernelNames;
  });
}

describe('foldBatchNorm', () => {
  for (const [name, opts] of [
    ['iresnet18', { width: 0.25, inputSize: 32, blocks: [1, 2, 1, 1] }],
    ['mobilefacenet', { width: 0.25, inputSize: 32 }],
    ['mobilefacenet_orig', { width: 0.25, inputSize: 32 }],
  ] as const) {
    it(`${name}: same embeddings as the unfused network, through FusedConv2D; folded weights resident, rebuilt after setWeights, freed by dispose`, async () => {
      const before = tf.memory().numTensors;
      const net = createBackbone(name, { ...opts, seed: 3 } as never);
      randomizeNormalization(net, 40);
      const x = randomImages(3, 32, 5);
      const agree = () => {
        const plain = net.apply(x);
        const folded = net.apply(x, { foldBatchNorm: true });
        const a = plain.dataSync();
        // float32 rounding differs (w·a summed vs summed then ·a): agreement relative to the output scale
        expect(maxAbsDiff(a, folded.dataSync())).toBeLessThan(1e-4 * maxAbs(a));
        expect(maxAbs(a)).toBeGreaterThan(0);
        tf.dispose([plain, folded]);
        return Float32Array.from(a);
      };
      const first = agree();
      // the folded weights stay resident: further calls allocate nothing that outlives them
      const n0 = tf.memory().numTensors;
      tf.dispose(net.apply(x, { foldBatchNorm: true }));
      expect(tf.memory().numTensors).toBe(n0);
      // new BN statistics / γ / PReLU: the cache must notice (otherwise the folded output keeps the old function)
      randomizeNormalization(net, 90);
      const second = agree();
      expect(maxAbsDiff(first, second)).toBeGreaterThan(1e-3 * maxAbs(first));
      expect(tf.memory().numTensors).toBe(n0);
      const kernels = await kernelsOf(() => net.apply(x, { foldBatchNorm: true }));
      expect(kernels).toContain('FusedConv2D');
      expect(kernels).not.toContain('Conv2D');
      if (name.startsWith('mobilefacenet')) expect(kernels).toContain('FusedDepthwiseConv2D');
      x.dispose();
      net.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('is refused in training and with an onBatchNorm callback', () => {
    const net = createBackbone('mobilefacenet', { width: 0.25, inputSize: 32 });
    const x = randomImages(2, 32, 1);
    expect(() => net.apply(x, { training: true, foldBatchNorm: true })).toThrow(/foldBatchNorm is for inference only/);
    expect(() => net.apply(x, { foldBatchNorm: true, onBatchNorm: () => undefined })).toThrow(/foldBatchNorm is for inference only/);
    x.dispose();
    net.dispose();
  });
});
