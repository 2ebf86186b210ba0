// Plain FC + softmax cross-entropy against a float64 closed form: dL/dz = (softmax − onehot)/B, dW = xᵀ·dz,
// dx = dz·Wᵀ, db = Σ_b dz.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { softmaxLoss } from '../src/index.js';
import { relErr, uniform } from './reference.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

function reference(x: Float64Array, wDC: Float64Array, bias: Float64Array, labels: Int32Array, B: number, D: number, C: number) {
  let loss = 0;
  const gx = new Float64Array(B * D);
  const gw = new Float64Array(D * C);
  const gb = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    const z = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let v = bias[c]!;
      for (let j = 0; j < D; j++) v += x[b * D + j]! * wDC[j * C + c]!;
      z[c] = v;
    }
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
    loss += (lse - z[labels[b]!]!) / B;
    for (let c = 0; c < C; c++) {
      const dz = (Math.exp(z[c]! - lse) - (c === labels[b] ? 1 : 0)) / B;
      gb[c]! += dz;
      for (let j = 0; j < D; j++) {
        gw[j * C + c]! += x[b * D + j]! * dz;
        gx[b * D + j]! += dz * wDC[j * C + c]!;
      }
    }
  }
  return { loss, gx, gw, gb };
}

describe('softmaxLoss', () => {
  const B = 5;
  const D = 6;
  const C = 4;
  const x = uniform(B * D, 1).map((v) => Math.fround(3 * v));
  const w = uniform(D * C, 2).map((v) => Math.fround(v));
  const bias = uniform(C, 3).map((v) => Math.fround(v));
  const labels = Int32Array.from([0, 3, 1, 1, 2]);
  const ref = reference(x, w, bias, labels, B, D, C);

  it('[D, C] weights with bias: loss and gradients of x, W, b', () => {
    const xt = tf.tensor2d(Float32Array.from(x), [B, D]);
    const wt = tf.tensor2d(Float32Array.from(w), [D, C]);
    const bt = tf.tensor1d(Float32Array.from(bias));
    const lt = tf.tensor1d(labels, 'int32');
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      softmaxLoss(a as tf.Tensor2D, b as tf.Tensor2D, lt, c as tf.Tensor1D),
    )([xt, wt, bt]);
    expect(Math.abs(value.dataSync()[0]! - ref.loss) / ref.loss).toBeLessThan(1e-6);
    expect(relErr(grads[0]!.dataSync(), ref.gx)).toBeLessThan(1e-5);
    expect(relErr(grads[1]!.dataSync(), ref.gw)).toBeLessThan(1e-5);
    expect(relErr(grads[2]!.dataSync(), ref.gb)).toBeLessThan(1e-5);
    tf.dispose([xt, wt, bt, lt, value, ...grads]);
  });

  it('[C, D] weights without bias give the same loss as the transposed [D, C] layout', () => {
    const zero = new Float64Array(C);
    const r0 = reference(x, w, zero, labels, B, D, C);
    const wCD = new Float32Array(C * D);
    for (let j = 0; j < D; j++) for (let c = 0; c < C; c++) wCD[c * D + j] = w[j * C + c]!;
    const xt = tf.tensor2d(Float32Array.from(x), [B, D]);
    const wt = tf.tensor2d(wCD, [C, D]);
    const lt = tf.tensor1d(labels, 'int32');
    const l = softmaxLoss(xt, wt, lt);
    expect(Math.abs(l.dataSync()[0]! - r0.loss) / r0.loss).toBeLessThan(1e-6);
    tf.dispose([xt, wt, lt, l]);
  });

  it('rejects mismatched shapes, bias and layout', () => {
    const xt = tf.zeros([B, D]) as tf.Tensor2D;
    const lt = tf.tensor1d(labels, 'int32');
    expect(() => softmaxLoss(xt, tf.zeros([5, 7]) as tf.Tensor2D, lt)).toThrow(/do not match embedding dim 6/);
    expect(() => softmaxLoss(xt, tf.zeros([D, C]) as tf.Tensor2D, lt, tf.zeros([3]) as tf.Tensor1D)).toThrow(/bias must be a 1-D tensor of length 4/);
    expect(() => softmaxLoss(xt, tf.zeros([D, C]) as tf.Tensor2D, lt, undefined, { layout: 'CD' })).toThrow(/layout CD/);
    expect(() => softmaxLoss(xt, tf.zeros([D, 3]) as tf.Tensor2D, lt)).toThrow(/labels\[1\]=3 is outside \[0, 3\)/);
  });
});
