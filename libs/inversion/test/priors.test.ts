import { initEngine, tf } from '@facet/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { ImageAdam, flipImages, imageL2Norm, inversionLearningRate, rollImages, totalVariation } from '../src/index.js';
import { finiteDifferences, maxAbs, maxAbsDiff, randomArray } from './tiny-net.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const [N, H, W, C] = [2, 4, 5, 3];
const x64 = randomArray(N * H * W * C, 21);
const at = (x: Float64Array, n: number, h: number, w: number, c: number) => x[((n * H + h) * W + w) * C + c]!;

/** DeepInversion's four neighbour differences, written as index loops in float64. */
function tv64(x: Float64Array, norm: 'l2' | 'l1'): number {
  const dirs: Array<[number, number, number, number]> = [
    [0, 0, 0, 1], // x[h, w] − x[h, w+1]
    [0, 0, 1, 0], // x[h, w] − x[h+1, w]
    [1, 0, 0, 1], // x[h+1, w] − x[h, w+1]
    [0, 0, 1, 1], // x[h, w] − x[h+1, w+1]
  ];
  let total = 0;
  for (const [ay, ax, by, bx] of dirs) {
    let s = 0;
    let count = 0;
    for (let n = 0; n < N; n++)
      for (let h = 0; h + Math.max(ay, by) < H; h++)
        for (let w = 0; w + Math.max(ax, bx) < W; w++)
          for (let c = 0; c < C; c++) {
            const d = at(x, n, h + ay, w + ax, c) - at(x, n, h + by, w + bx, c);
            s += norm === 'l2' ? d * d : Math.abs(d);
            count++;
          }
    total += norm === 'l2' ? Math.sqrt(s) : s / count;
  }
  return total;
}

function l2prior64(x: Float64Array): number {
  let total = 0;
  const per = H * W * C;
  for (let n = 0; n < N; n++) total += Math.sqrt(x.subarray(n * per, (n + 1) * per).reduce((s, v) => s + v * v, 0));
  return total / N;
}

describe('image priors', () => {
  for (const norm of ['l2', 'l1'] as const) {
    it(`totalVariation (${norm}): value and input gradient match float64 loops + finite differences`, () => {
      const x = tf.tensor4d(Float32Array.from(x64), [N, H, W, C]);
      const before = tf.memory().numTensors;
      const v = totalVariation(x, norm);
      const g = tf.grad((z) => totalVariation(z as tf.Tensor4D, norm))(x);
      const value = v.dataSync()[0]!;
      const grad = g.dataSync();
      tf.dispose([v, g]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      const ref = tv64(x64, norm);
      expect(Math.abs(value - ref) / ref).toBeLessThan(1e-5);
      const refGrad = finiteDifferences((z) => tv64(z, norm), x64, norm === 'l1' ? 1e-7 : 1e-5);
      expect(maxAbsDiff(grad, refGrad) / maxAbs(refGrad)).toBeLessThan(1e-3);
    });
  }

  it('a constant image has zero TV; a one-pixel step has the closed-form value', () => {
    const flat = tf.fill([1, 3, 3, 1], 0.7) as tf.Tensor4D;
    expect(totalVariation(flat).dataSync()[0]).toBeLessThan(1e-5);
    // a 2×2 image [[0, 1], [0, 1]]: horizontal ‖(−1,−1)‖ = √2, vertical 0, diagonals ‖−1‖ + ‖−1‖ → √2 + 2
    const step = tf.tensor4d([0, 1, 0, 1], [1, 2, 2, 1]);
    expect(totalVariation(step).dataSync()[0]).toBeCloseTo(Math.SQRT2 + 2, 5);
    tf.dispose([flat, step]);
  });

  it('imageL2Norm: mean per-image L2 norm and its gradient x_b/‖x_b‖/N', () => {
    const x = tf.tensor4d(Float32Array.from(x64), [N, H, W, C]);
    const v = imageL2Norm(x).dataSync()[0]!;
    expect(Math.abs(v - l2prior64(x64)) / v).toBeLessThan(1e-5);
    const g = tf.grad((z) => imageL2Norm(z as tf.Tensor4D))(x).dataSync();
    const refGrad = finiteDifferences(l2prior64, x64);
    expect(maxAbsDiff(g, refGrad)).toBeLessThan(1e-4);
    x.dispose();
  });
});

describe('jitter', () => {
  it('rollImages follows torch.roll (out[i] = x[(i − shift) mod n]) for positive, negative and large shifts', () => {
    const x = tf.tensor4d(Float32Array.from(x64), [N, H, W, C]);
    for (const [dy, dx] of [[1, 2], [-1, -3], [0, 0], [H + 2, -(W + 1)]] as const) {
      const out = rollImages(x, dy, dx).dataSync();
      for (let n = 0; n < N; n++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++)
            for (let c = 0; c < C; c++) {
              const sh = (((h - dy) % H) + H) % H;
              const sw = (((w - dx) % W) + W) % W;
              expect(out[((n * H + h) * W + w) * C + c]).toBeCloseTo(at(x64, n, sh, sw, c), 6);
            }
    }
    expect(() => rollImages(x, 0.5, 0)).toThrow(/integers/);
    x.dispose();
  });

  it('the gradient of a roll is the inverse roll, of a flip the flip', () => {
    const x = tf.tensor4d(Float32Array.from(x64), [N, H, W, C]);
    const wts = tf.tensor4d(Float32Array.from(randomArray(x64.length, 3)), [N, H, W, C]);
    const gRoll = tf.grad((z) => tf.sum(tf.mul(rollImages(z as tf.Tensor4D, 2, -1), wts)))(x);
    const back = rollImages(wts, -2, 1);
    expect(maxAbsDiff(gRoll.dataSync(), back.dataSync())).toBeLessThan(1e-6);
    const gFlip = tf.grad((z) => tf.sum(tf.mul(flipImages(z as tf.Tensor4D), wts)))(x);
    const flipped = flipImages(wts);
    expect(maxAbsDiff(gFlip.dataSync(), flipped.dataSync())).toBeLessThan(1e-6);
    const f = flipImages(x).dataSync();
    expect(f[0]).toBeCloseTo(at(x64, 0, 0, W - 1, 0), 6);
    tf.dispose([x, wts, gRoll, back, gFlip, flipped]);
  });
});

describe('schedule and optimizer', () => {
  it('inversionLearningRate: linear warm-up then cosine decay (DeepInversion lr_cosine_policy)', () => {
    expect(inversionLearningRate(0, 1000, 0.25, 100)).toBeCloseTo(0.0025, 10);
    expect(inversionLearningRate(99, 1000, 0.25, 100)).toBeCloseTo(0.25, 10);
    expect(inversionLearningRate(100, 1000, 0.25, 100)).toBeCloseTo(0.25, 10);
    expect(inversionLearningRate(550, 1000, 0.25, 100)).toBeCloseTo(0.125, 10);
    expect(inversionLearningRate(1000, 1000, 0.25, 100)).toBeCloseTo(0, 10);
  });

  it('ImageAdam matches a float64 Adam with bias correction, step by step', () => {
    const n = 6;
    const x0 = randomArray(n, 8);
    const v = tf.variable(tf.tensor1d(Float32Array.from(x0)));
    const before = tf.memory().numTensors;
    const adam = new ImageAdam([n], { beta1: 0.5, beta2: 0.9, epsilon: 1e-8 });
    const ref = Float64Array.from(x0);
    const m = new Float64Array(n);
    const s = new Float64Array(n);
    for (let t = 1; t <= 5; t++) {
      const g64 = randomArray(n, 100 + t).map((gi, i) => gi + 0.3 * ref[i]!);
      const g = tf.tensor1d(Float32Array.from(g64));
      const lr = 0.1 * t;
      adam.step(v, g, lr);
      g.dispose();
      for (let i = 0; i < n; i++) {
        m[i] = 0.5 * m[i]! + 0.5 * g64[i]!;
        s[i] = 0.9 * s[i]! + 0.1 * g64[i]! ** 2;
        ref[i] = ref[i]! - (lr * (m[i]! / (1 - 0.5 ** t))) / (Math.sqrt(s[i]! / (1 - 0.9 ** t)) + 1e-8);
      }
      expect(maxAbsDiff(v.dataSync(), ref)).toBeLessThan(1e-5);
    }
    expect(tf.memory().numTensors).toBe(before + 2); // its two moment buffers
    adam.dispose();
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});
