// BatchNorm train vs inference against a float64 loop reference (PyTorch semantics: biased variance to
// normalise, unbiased variance into the running stats, momentum 0.1), its gradient against the closed-form
// backward, and the running-stat update seen from a whole backbone through the onBatchNorm hook.
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_NORM_TRAINING, initEngine, tf } from '@facet/engine';
import { batchNorm } from '../src/layers/batch-norm.js';
import { NetworkBuilder } from '../src/network.js';
import { createBackbone, type BatchNormLayer } from '../src/index.js';
import { materialize } from './layer-harness.js';
import { maxAbs, maxAbsDiff, randomArray, randomImages } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const [N, H, W, C] = [4, 3, 5, 6];
const EPS = 1e-5;

/** Per-channel float64 batch statistics over N·H·W. */
function stats64(x: Float32Array, c: number) {
  const n = x.length / c;
  const mean = new Float64Array(c);
  const sq = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c]! += x[i]!;
  for (let k = 0; k < c; k++) mean[k]! /= n;
  for (let i = 0; i < x.length; i++) sq[i % c]! += (x[i]! - mean[i % c]!) ** 2;
  const biased = Array.from(sq, (s) => s / n);
  const unbiased = Array.from(sq, (s) => s / (n - 1));
  return { n, mean: Array.from(mean), biased, unbiased };
}

function normalize64(x: Float32Array, mean: number[], variance: number[], gamma: Float32Array, beta: Float32Array) {
  return Float64Array.from(x, (v, i) => {
    const k = i % C;
    return ((v - mean[k]!) / Math.sqrt(variance[k]! + EPS)) * gamma[k]! + beta[k]!;
  });
}

function setup() {
  const b = new NetworkBuilder();
  const bn = batchNorm(b, 'bn', C, { eps: EPS });
  const m = materialize(b);
  const gamma = Float32Array.from(randomArray(C, 1), (v) => 1 + 0.5 * v);
  const beta = randomArray(C, 2);
  const rm0 = randomArray(C, 3);
  const rv0 = Float32Array.from(randomArray(C, 4), (v) => 1.5 + v);
  m.vars.get('bn.weight')!.assign(tf.tensor1d(gamma));
  m.vars.get('bn.bias')!.assign(tf.tensor1d(beta));
  m.vars.get('bn.running_mean')!.assign(tf.tensor1d(rm0));
  m.vars.get('bn.running_var')!.assign(tf.tensor1d(rv0));
  // a non-zero mean and non-unit scale per channel
  const x = Float32Array.from(randomArray(N * H * W * C, 5), (v, i) => 3 * v + (i % C) - 2);
  return { bn, m, gamma, beta, rm0, rv0, x };
}

// 'kernel': the fused BN on wasm runs the engine's two BN kernels; 'fused ops': the same customGrad written with tf
// ops (what other backends run; here on the cpu backend); 'plain ops': tf.moments + affine, autodiff backward.
const MODES = [
  { name: 'fused wasm kernels', fused: true, backend: 'wasm' },
  { name: 'fused ops on cpu', fused: true, backend: 'cpu' },
  { name: 'plain ops', fused: false, backend: 'wasm' },
] as const;

async function onBackend(name: string, fn: () => void): Promise<void> {
  await tf.setBackend(name);
  try {
    fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

describe('BatchNorm (PyTorch semantics)', () => {
  it('the wasm engine has the fused BN kernels', () => {
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'wasm')).toBeDefined();
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'cpu')).toBeUndefined();
  });
  for (const { name: mode, fused, backend } of MODES) {
  it(`training (${mode}): batch statistics, running update with momentum 0.1 and unbiased variance; inference: running stats`, () => onBackend(backend, () => {
    const { bn, m, gamma, beta, rm0, rv0, x } = setup();
    const xt = tf.tensor4d(x, [N, H, W, C]);
    const s = stats64(x, C);

    const yTrain = tf.tidy(() => bn.apply(xt, m.ctx(true, undefined, fused)));
    const refTrain = normalize64(x, s.mean, s.biased, gamma, beta);
    expect(maxAbsDiff(yTrain.dataSync(), refTrain)).toBeLessThan(2e-5 * Math.max(1, maxAbs(refTrain)));

    const rm = m.vars.get('bn.running_mean')!.dataSync();
    const rv = m.vars.get('bn.running_var')!.dataSync();
    const rmRef = s.mean.map((v, k) => 0.9 * rm0[k]! + 0.1 * v);
    const rvRef = s.unbiased.map((v, k) => 0.9 * rv0[k]! + 0.1 * v);
    expect(maxAbsDiff(rm, rmRef)).toBeLessThan(1e-5);
    expect(maxAbsDiff(rv, rvRef)).toBeLessThan(1e-5);
    // the biased variance would be measurably different here (n = 60)
    const rvBiased = s.biased.map((v, k) => 0.9 * rv0[k]! + 0.1 * v);
    expect(maxAbsDiff(rvRef, rvBiased)).toBeGreaterThan(1e-3);

    const before = tf.memory().numTensors;
    const yEval = tf.tidy(() => bn.apply(xt, m.ctx(false)));
    const refEval = normalize64(x, Array.from(rm), Array.from(rv), gamma, beta);
    expect(maxAbsDiff(yEval.dataSync(), refEval)).toBeLessThan(2e-5 * Math.max(1, maxAbs(refEval)));
    // inference leaves the running stats alone
    expect(maxAbsDiff(m.vars.get('bn.running_mean')!.dataSync(), rm)).toBe(0);
    expect(maxAbsDiff(yEval.dataSync(), yTrain.dataSync())).toBeGreaterThan(1e-2);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([xt, yTrain, yEval]);
    m.dispose();
  }));

  it(`training-mode gradient (${mode}) matches the closed-form BN backward (float64)`, () => onBackend(backend, () => {
    const { bn, m, gamma, x } = setup();
    const r = randomArray(x.length, 9); // loss = Σ y·r, so dL/dy = r
    const xt = tf.tensor4d(x, [N, H, W, C]);
    const rt = tf.tensor4d(r, [N, H, W, C]);
    const g = m.vars.get('bn.weight')!;
    const bta = m.vars.get('bn.bias')!;
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.apply(xt, m.ctx(true, undefined, fused)), rt)) as tf.Scalar, [g, bta]);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(bn.apply(xx, m.ctx(true, undefined, fused)), rt)))(xt);
    const s = stats64(x, C);
    const n = s.n;
    const sumDy = new Float64Array(C);
    const sumDyXhat = new Float64Array(C);
    const xhat = Float64Array.from(x, (v, i) => (v - s.mean[i % C]!) / Math.sqrt(s.biased[i % C]! + EPS));
    r.forEach((dy, i) => {
      sumDy[i % C]! += dy;
      sumDyXhat[i % C]! += dy * xhat[i]!;
    });
    // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)) (Ioffe & Szegedy 2015, backward of Alg. 1)
    const dxRef = Float64Array.from(r, (dy, i) => {
      const k = i % C;
      return (gamma[k]! / Math.sqrt(s.biased[k]! + EPS)) * (dy - sumDy[k]! / n - (xhat[i]! * sumDyXhat[k]!) / n);
    });
    expect(maxAbsDiff(dx.dataSync(), dxRef)).toBeLessThan(1e-4 * Math.max(1, maxAbs(dxRef)));
    expect(maxAbsDiff(grads[g.name]!.dataSync(), sumDyXhat)).toBeLessThan(1e-4 * maxAbs(sumDyXhat));
    expect(maxAbsDiff(grads[bta.name]!.dataSync(), sumDy)).toBeLessThan(1e-4 * maxAbs(sumDy));
    tf.dispose([xt, rt, dx, ...Object.values(grads)]);
    m.dispose();
  }));
  }

  it('refuses training with one value per channel, as PyTorch does', () => {
    const { bn, m } = setup();
    const one = tf.zeros([1, 1, 1, C]);
    expect(() => bn.apply(one, m.ctx(true))).toThrow(/more than one value per channel/);
    one.dispose();
    m.dispose();
  });

  it('a backbone exposes every BN layer in forward order; its hook sees the inputs the running stats are updated from', () => {
    const net = createBackbone('iresnet18', { width: 0.125, inputSize: 32, embeddingSize: 16, blocks: [1, 1, 1, 1] });
    const layers = net.batchNorms();
    expect(layers.map((l) => l.name)).toEqual([
      'bn1',
      ...[1, 2, 3, 4].flatMap((s) => ['bn1', 'bn2', 'bn3', 'downsample.1'].map((n) => `layer${s}.0.${n}`)),
      'bn2',
      'features',
    ]);
    expect(layers.every((l) => l.momentum === 0.1 && l.eps === 1e-5)).toBe(true);
    const x = randomImages(3, 32, 11);
    const seen: Array<{ layer: BatchNormLayer; input: Float32Array }> = [];
    const before = layers.map((l) => ({ mean: l.runningMean.dataSync().slice(), variance: l.runningVar.dataSync().slice() }));
    tf.tidy(() => {
      net.apply(x, { training: true, onBatchNorm: (layer, input) => seen.push({ layer, input: input.dataSync() as Float32Array }) });
    });
    expect(seen.map((s) => s.layer.name)).toEqual(layers.map((l) => l.name));
    seen.forEach(({ layer, input }, i) => {
      const s = stats64(input, layer.channels);
      const mean = layer.runningMean.dataSync();
      const variance = layer.runningVar.dataSync();
      const rmRef = s.mean.map((v, k) => 0.9 * before[i]!.mean[k]! + 0.1 * v);
      const rvRef = s.unbiased.map((v, k) => 0.9 * before[i]!.variance[k]! + 0.1 * v);
      expect(maxAbsDiff(mean, rmRef), layer.name).toBeLessThan(1e-4 * Math.max(1, maxAbs(rmRef)));
      expect(maxAbsDiff(variance, rvRef), layer.name).toBeLessThan(1e-4 * Math.max(1, maxAbs(rvRef)));
    });
    // inference reads but never updates them
    const snapshot = layers.map((l) => l.runningVar.dataSync().slice());
    tf.dispose(net.apply(x));
    layers.forEach((l, i) => expect(maxAbsDiff(l.runningVar.dataSync(), snapshot[i]!)).toBe(0));
    x.dispose();
    net.dispose();
  });
  it('frozen BN while training: the forward equals inference, running stats stay, γ/β gradients match finite differences', () => {
    const net = createBackbone('mobilefacenet', { width: 0.125, inputSize: 32, embeddingSize: 8, blocks: [1, 1, 1, 1] });
    // non-trivial statistics, as an imported network has
    const layers = net.batchNorms();
    layers.forEach((l, i) => {
      l.runningMean.assign(tf.tensor1d(randomArray(l.channels, 100 + i)));
      l.runningVar.assign(tf.tensor1d(randomArray(l.channels, 200 + i).map((v) => 0.5 + Math.abs(v))));
    });
    const before = layers.map((l) => [l.runningMean.dataSync().slice(), l.runningVar.dataSync().slice()]);
    const x = randomImages(1, 32, 7); // batch 1: legal with frozen statistics
    const inference = net.apply(x);
    const frozen = net.apply(x, { training: true, frozenBatchNorm: true });
    expect(maxAbsDiff(frozen.dataSync(), inference.dataSync())).toBe(0);
    layers.forEach((l, i) => {
      expect(maxAbsDiff(l.runningMean.dataSync(), before[i]![0]!), l.name).toBe(0);
      expect(maxAbsDiff(l.runningVar.dataSync(), before[i]![1]!), l.name).toBe(0);
    });
    // d(Σ y·r)/dβ of one BN by the tape vs a central difference (float32: compare at a loose tolerance)
    const weights = net.getWeights();
    const beta = weights['conv_sep.layers.1.bias'] as tf.Variable;
    const r = tf.tensor2d(randomArray(8, 9), [1, 8]);
    const loss = () => tf.sum(tf.mul(net.apply(x, { training: true, frozenBatchNorm: true }), r)) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, [beta]);
    const g = grads[beta.name]!.dataSync();
    const b0 = beta.dataSync().slice();
    const h = 1e-2;
    for (const k of [0, 3, 7]) {
      const at = (d: number) => {
        const b = b0.slice();
        b[k]! += d;
        beta.assign(tf.tensor1d(b));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(g[k]! - fd), `β[${k}]`).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
    }
    beta.assign(tf.tensor1d(b0));
    tf.dispose([x, inference, frozen, r, ...Object.values(grads)]);
    net.dispose();
  });
});
