// oneDNN convolutions (forward, both gradients; regular and depthwise; fused bias + activation) against tfjs's
// cpu backend on random shapes: strides 1/2/3, 'same', 'valid' and explicit pads, odd sizes.
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../src/index.js';
import { addonLoaded, expectNativeMatchesCpu, randomArray, tf } from './helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const explicit = (t: number, b: number, l: number, r: number): Pad => [[0, 0], [t, b], [l, r], [0, 0]];

const CASES: Array<{ x: [number, number, number, number]; k: number; cout: number; stride: number; pad: Pad; mult?: number }> = [
  { x: [2, 7, 7, 3], k: 3, cout: 8, stride: 1, pad: 'same', mult: 1 },
  { x: [2, 8, 8, 16], k: 3, cout: 16, stride: 2, pad: 'same', mult: 2 },
  { x: [1, 9, 7, 5], k: 3, cout: 6, stride: 2, pad: 'valid', mult: 1 },
  { x: [3, 8, 8, 8], k: 3, cout: 16, stride: 2, pad: explicit(1, 1, 1, 1), mult: 1 },
  { x: [2, 9, 7, 6], k: 3, cout: 5, stride: 2, pad: explicit(1, 1, 1, 1), mult: 3 },
  { x: [2, 8, 9, 8], k: 1, cout: 16, stride: 2, pad: 'valid', mult: 1 },
  { x: [2, 11, 10, 3], k: 4, cout: 2, stride: 3, pad: 'same', mult: 2 },
  { x: [2, 6, 7, 4], k: 3, cout: 3, stride: 2, pad: explicit(2, 2, 2, 1), mult: 1 },
  { x: [2, 14, 14, 32], k: 7, cout: 32, stride: 1, pad: 'valid', mult: 1 },
  { x: [3, 9, 11, 5], k: 3, cout: 10, stride: 1, pad: 'same', mult: 2 },
];

let seed = 1;
// fixed seeds per call: the same function runs once per backend and must see the same data
let randSeed = 1000;
const rand = (shape: number[]) => tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), randSeed++), shape);
const fresh = <T>(fn: () => T) => () => {
  randSeed = 1000;
  return fn();
};

describe.skipIf(!addonLoaded)('native convolutions vs cpu', () => {
  for (const c of CASES) {
    const name = `x ${c.x} k ${c.k} s ${c.stride} pad ${JSON.stringify(c.pad)}`;
    it(`Conv2D and both gradients: ${name} → ${c.cout}`, async () => {
      const x = randomArray(c.x.reduce((a, b) => a * b, 1), seed++);
      const wShape = [c.k, c.k, c.x[3], c.cout];
      const w = randomArray(wShape.reduce((a, b) => a * b, 1), seed++);
      const errs = await expectNativeMatchesCpu(name, () => {
        const xt = tf.tensor4d(x, c.x);
        const wt = tf.tensor4d(w, wShape as [number, number, number, number]);
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).square().sum();
        const y = tf.conv2d(xt, wt, c.stride, c.pad);
        const [gx, gw] = tf.grads(f)([xt, wt]);
        return [y, gx!, gw!];
      });
      expect(errs.length).toBe(3);
    });

    it(`DepthwiseConv2dNative and both gradients: ${name} × ${c.mult}`, async () => {
      const x = randomArray(c.x.reduce((a, b) => a * b, 1), seed++);
      const wShape = [c.k, c.k, c.x[3], c.mult!] as [number, number, number, number];
      const w = randomArray(wShape.reduce((a, b) => a * b, 1), seed++);
      await expectNativeMatchesCpu(`depthwise ${name}`, () => {
        const xt = tf.tensor4d(x, c.x);
        const wt = tf.tensor4d(w, wShape);
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).square().sum();
        const y = tf.depthwiseConv2d(xt, wt, c.stride, c.pad);
        const [gx, gw] = tf.grads(f)([xt, wt]);
        return [y, gx!, gw!];
      });
    });
  }

  it('runs the native kernels, not the cpu ones', () => {
    expect(tf.getKernel('Conv2D', 'native')!.kernelFunc).not.toBe(tf.getKernel('Conv2D', 'cpu')!.kernelFunc);
  });

  it('dilated forward convolutions (regular and depthwise)', async () => {
    await expectNativeMatchesCpu('dilation 2', fresh(() => {
      const x = rand([2, 11, 9, 4]);
      return [tf.conv2d(x as tf.Tensor4D, rand([3, 3, 4, 5]) as tf.Tensor4D, 1, 'same', 'NHWC', 2),
        tf.depthwiseConv2d(x as tf.Tensor4D, rand([3, 3, 4, 2]) as tf.Tensor4D, 1, 'valid', 'NHWC', [2, 3])];
    }));
  });

  for (const activation of ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'elu'] as const) {
    it(`FusedConv2D / FusedDepthwiseConv2D with bias and ${activation}`, async () => {
      await expectNativeMatchesCpu(`fused ${activation}`, fresh(() => {
        const x = rand([2, 9, 8, 6]);
        const prelu = activation === 'prelu' ? rand([6]) : undefined;
        const preluDw = activation === 'prelu' ? rand([12]) : undefined;
        const y = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: rand([3, 3, 6, 6]) as tf.Tensor4D, strides: 2, pad: 'same', bias: rand([6]), activation, preluActivationWeights: prelu, leakyreluAlpha: 0.3 });
        const z = tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: rand([3, 3, 6, 2]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: rand([12]), activation, preluActivationWeights: preluDw, leakyreluAlpha: 0.1 });
        return [y, z];
      }));
    });
  }

  it('cached forward weights: reused for the same filter tensor, never stale for a new one in a recycled buffer, freed with their tensor', async () => {
    await tf.setBackend('native');
    const info = () => nativeAddon().info().cachedWeights;
    const start = info();
    const xs = [0, 1, 2].map((i) => tf.tensor4d(randomArray(2 * 9 * 9 * 8, 70 + i), [2, 9, 9, 8]));
    const base = [0, 1].map((i) => tf.tensor4d(randomArray(3 * 3 * 8 * 16, 80 + i), [3, 3, 8, 16]));
    const storage = (t: tf.Tensor) => (tf.backend() as unknown as { data: { get(id: object): { values: unknown } } }).data.get(t.dataId).values;
    // filter = base[b]·k made on native (a pooled output buffer); the reference reads base, never the filter itself
    // (dataSync would mark its buffer escaped and keep it out of the pool)
    const check = async (filter: tf.Tensor4D, b: number, k: number, x: tf.Tensor4D) => {
      const got = tf.conv2d(x, filter, 1, 'same');
      const [bv, xv] = [base[b]!.dataSync(), x.dataSync()];
      await tf.setBackend('cpu');
      const want = tf.tidy(() => tf.conv2d(tf.tensor4d(xv, x.shape), tf.mul(tf.tensor4d(bv, [3, 3, 8, 16]), k) as tf.Tensor4D, 1, 'same'));
      const wantV = want.dataSync();
      want.dispose();
      await tf.setBackend('native');
      const gotV = got.dataSync();
      got.dispose();
      let err = 0;
      for (let i = 0; i < gotV.length; i++) err = Math.max(err, Math.abs(gotV[i]! - wantV[i]!));
      expect(err).toBeLessThan(1e-4);
    };
    const f1 = tf.mul(base[0]!, 2) as tf.Tensor4D;
    const f1Storage = storage(f1);
    for (const x of xs) await check(f1, 0, 2, x as tf.Tensor4D);
    expect(info()).toBe(start + 1);
    f1.dispose();
    expect(info()).toBe(start);
    const f2 = tf.mul(base[1]!, 3) as tf.Tensor4D;
    expect(storage(f2)).toBe(f1Storage); // the recycled buffer: same memory, new contents
    for (const x of xs) await check(f2, 1, 3, x as tf.Tensor4D);
    f2.dispose();
    expect(info()).toBe(start);
    tf.dispose([...xs, ...base]);
  });

  it('falls back to the cpu kernel for NCHW', async () => {
    // tfjs's cpu backend implements conv2d for NCHW; the native kernel hands that layout back to it
    await expectNativeMatchesCpu('NCHW', fresh(() => [tf.conv2d(rand([2, 3, 6, 6]) as tf.Tensor4D, rand([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same', 'NCHW')]));
  });
});
