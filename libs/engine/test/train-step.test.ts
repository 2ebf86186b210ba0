// A miniature face-recognition training step (conv → BN(train) → PReLU → conv stride 2 → dense, SGD with
// momentum) on wasm must give the same gradients and updated weights as the cpu backend.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index.js';
import { maxAbs, maxAbsDiff, randomArray } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const shapes: Record<string, number[]> = {
  w1: [3, 3, 3, 8],
  gamma: [8],
  beta: [8],
  alpha: [8],
  w2: [3, 3, 8, 16],
  dense: [16 * 5 * 5, 10],
};

function makeParams(): Record<string, tf.Variable> {
  const p: Record<string, tf.Variable> = {};
  let seed = 100;
  for (const [k, s] of Object.entries(shapes)) {
    const n = s.reduce((a, b) => a * b);
    const v = randomArray(n, seed++);
    const init = k === 'gamma' ? v.map((x) => 1 + 0.1 * x) : k === 'alpha' ? v.map(() => 0.25) : v.map((x) => 0.3 * x);
    p[k] = tf.variable(tf.tensor(init, s), true, k);
  }
  return p;
}

function loss(p: Record<string, tf.Variable>, x: tf.Tensor4D, labels: tf.Tensor1D): tf.Scalar {
  const c1 = tf.conv2d(x, p.w1 as tf.Variable<tf.Rank.R4>, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const { mean, variance } = tf.moments(c1, [0, 1, 2]);
  const bn = tf.add(tf.mul(tf.div(tf.sub(c1, mean), tf.sqrt(tf.add(variance, 1e-5))), p.gamma!), p.beta!);
  const act = tf.prelu<tf.Tensor>(bn, p.alpha!);
  const c2 = tf.conv2d(act as tf.Tensor4D, p.w2 as tf.Variable<tf.Rank.R4>, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const logits = tf.matMul(tf.reshape(c2, [x.shape[0], -1]), p.dense as tf.Variable<tf.Rank.R2>);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), logits) as tf.Scalar;
}

async function run(backend: string, steps: number) {
  await tf.setBackend(backend);
  const p = makeParams();
  const x = tf.tensor4d(randomArray(6 * 10 * 10 * 3, 7), [6, 10, 10, 3]);
  const labels = tf.tensor1d([0, 3, 9, 3, 1, 7], 'int32');
  const opt = tf.train.momentum(0.05, 0.9);
  const grads = tf.variableGrads(() => loss(p, x, labels));
  const g = Object.fromEntries(Object.entries(grads.grads).map(([k, v]) => [k, v.dataSync().slice()]));
  tf.dispose(grads.grads);
  grads.value.dispose();
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const l = opt.minimize(() => loss(p, x, labels), true)!;
    losses.push(l.dataSync()[0]!);
    l.dispose();
    if (i === 0) expect(tf.memory().numTensors).toBeGreaterThanOrEqual(before); // optimizer slots appear once
  }
  const after1 = tf.memory().numTensors;
  const l = opt.minimize(() => loss(p, x, labels), true)!;
  l.dispose();
  const leak = tf.memory().numTensors - after1;
  const weights = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.dataSync().slice()]));
  opt.dispose();
  tf.dispose([x, labels, ...Object.values(p)]);
  return { g, losses, weights, leak };
}

describe('training step on wasm matches cpu', () => {
  it('gradients, momentum-SGD updates and losses agree to 1e-4 relative; no tensor leak', async () => {
    const ref = await run('cpu', 5);
    const got = await run('wasm', 5);
    for (const k of Object.keys(shapes)) {
      const rel = maxAbsDiff(got.g[k]!, ref.g[k]!) / Math.max(1e-12, maxAbs(ref.g[k]!));
      console.log(`grad ${k}: max relative diff ${rel.toExponential(2)}`);
      expect(rel, k).toBeLessThan(1e-4);
      const wrel = maxAbsDiff(got.weights[k]!, ref.weights[k]!) / Math.max(1e-12, maxAbs(ref.weights[k]!));
      expect(wrel, `weights ${k}`).toBeLessThan(1e-4);
    }
    expect(got.losses[4]!).toBeLessThan(got.losses[0]!);
    got.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i]!)).toBeLessThan(1e-4 * Math.max(1, ref.losses[i]!)));
    expect(got.leak).toBe(0);
  });
});
