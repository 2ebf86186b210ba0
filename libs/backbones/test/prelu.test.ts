// PReLU's one-pass backward on wasm (the engine's FacetPreluGrad) against a float64 loop: dx and the per-channel
// slope gradient, with values on both sides of 0 and exact zeros (PyTorch counts x = 0 on the negative side).
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, PRELU_GRAD, tf } from '@facet/engine';
import { applyPrelu } from '../src/layers/prelu.js';
import { maxAbs, maxAbsDiff, randomArray } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('PReLU', () => {
  it('forward and gradients match a float64 loop, through the fused kernel on wasm', () => {
    expect(tf.getKernel(PRELU_GRAD, 'wasm')).toBeDefined();
    const shape: [number, number, number, number] = [3, 4, 5, 6];
    const C = shape[3];
    const x = randomArray(shape.reduce((a, b) => a * b), 21);
    for (let i = 0; i < x.length; i += 7) x[i] = 0;
    const alpha = Float32Array.from(randomArray(C, 22), (v) => 0.25 + 0.2 * v);
    const r = randomArray(x.length, 23); // loss = Σ y·r
    const xt = tf.tensor4d(x, shape);
    const at = tf.variable(tf.tensor1d(alpha));
    const rt = tf.tensor4d(r, shape);
    const before = tf.memory().numTensors;
    const y = applyPrelu(xt, at);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(applyPrelu(xx as tf.Tensor4D, at), rt)))(xt);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(applyPrelu(xt, at), rt)) as tf.Scalar, [at]);
    const yRef = Float64Array.from(x, (v, i) => (v > 0 ? v : alpha[i % C]! * v));
    const dxRef = Float64Array.from(r, (d, i) => (x[i]! > 0 ? d : alpha[i % C]! * d));
    const daRef = new Float64Array(C);
    x.forEach((v, i) => {
      if (v <= 0) daRef[i % C]! += r[i]! * v;
    });
    expect(maxAbsDiff(y.dataSync(), yRef)).toBeLessThan(1e-6);
    expect(maxAbsDiff(dx.dataSync(), dxRef)).toBeLessThan(1e-6);
    expect(maxAbsDiff(grads[at.name]!.dataSync(), daRef)).toBeLessThan(1e-5 * Math.max(1, maxAbs(daRef)));
    tf.dispose([y, dx, value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, at, rt]);
  });
});
