import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { barlowTwinsLoss, infoNCE, ntXent, selfSupervisedObjective } from '../src/index.js';
import { maxAbsDiff, numericGradient, randomArray, refBarlow, refInfoNce, refNtXent, toRows } from './reference.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const B = 6;
const D = 4;
const a = randomArray(B * D, 101);
const b = Float32Array.from(randomArray(B * D, 102), (v, i) => 0.6 * v + a[i]!); // correlated second view

type Loss = (z1: tf.Tensor2D, z2: tf.Tensor2D) => tf.Scalar;
type Ref = (z1: number[][], z2: number[][]) => number;

/** The engine's value and gradients against the float64 reference and its central finite differences. */
function checkAgainstReference(loss: Loss, ref: Ref) {
  const refOf = (flat: number[]) => ref(toRows(flat.slice(0, B * D), D), toRows(flat.slice(B * D), D));
  const x = [...a, ...b];
  const before = tf.memory().numTensors;
  const z1 = tf.tensor2d(a, [B, D]);
  const z2 = tf.tensor2d(b, [B, D]);
  const { value, grads } = tf.valueAndGrads((p: tf.Tensor, q: tf.Tensor) => loss(p as tf.Tensor2D, q as tf.Tensor2D))([z1, z2]);
  const got = value.dataSync()[0]!;
  const g = [...grads[0]!.dataSync(), ...grads[1]!.dataSync()];
  tf.dispose([z1, z2, value, ...grads]);
  expect(tf.memory().numTensors).toBe(before);
  const expected = refOf(x);
  expect(Math.abs(got - expected)).toBeLessThan(2e-6 * Math.max(1, Math.abs(expected)));
  const fd = numericGradient(refOf, x);
  const scale = Math.max(...fd.map(Math.abs));
  expect(scale).toBeGreaterThan(1e-3); // the gradient is not trivially zero
  expect(maxAbsDiff(g, fd) / scale).toBeLessThan(2e-4);
  return { value: got, expected };
}

describe('NT-Xent', () => {
  for (const temperature of [0.5, 0.1]) {
    it(`value and gradient match the float64 reference (τ = ${temperature})`, () => {
      checkAgainstReference((p, q) => ntXent(p, q, { temperature }), (p, q) => refNtXent(p, q, temperature));
    });
  }
  it('defaults to τ = 0.5', () => {
    const [p, q] = [tf.tensor2d(a, [B, D]), tf.tensor2d(b, [B, D])];
    expect(ntXent(p, q).dataSync()[0]).toBeCloseTo(ntXent(p, q, { temperature: 0.5 }).dataSync()[0]!, 6);
    tf.dispose([p, q]);
  });
});

describe('InfoNCE', () => {
  for (const symmetric of [true, false]) {
    it(`value and gradient match the float64 reference (symmetric ${symmetric})`, () => {
      checkAgainstReference((p, q) => infoNCE(p, q, { temperature: 0.2, symmetric }), (p, q) => refInfoNce(p, q, 0.2, symmetric));
    });
  }
  it('tends to log(B) for identical constant embeddings and to 0 for perfectly separated pairs', () => {
    const same = tf.ones([B, D]) as tf.Tensor2D;
    expect(infoNCE(same, same, { temperature: 1 }).dataSync()[0]).toBeCloseTo(Math.log(B), 5);
    const eye = tf.eye(B) as tf.Tensor2D;
    expect(infoNCE(eye, eye, { temperature: 0.01 }).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([same, eye]);
  });
});

describe('Barlow Twins', () => {
  for (const standardize of ['biased', 'unbiased'] as const) {
    it(`value and gradient match the float64 reference (${standardize})`, () => {
      const eps = standardize === 'biased' ? 1e-5 : 0;
      checkAgainstReference((p, q) => barlowTwinsLoss(p, q, { lambda: 5e-3, standardize }), (p, q) => refBarlow(p, q, 5e-3, standardize, eps));
    });
  }
  it('λ weights the off-diagonal term (large λ to make it visible)', () => {
    checkAgainstReference((p, q) => barlowTwinsLoss(p, q, { lambda: 0.5 }), (p, q) => refBarlow(p, q, 0.5, 'biased', 1e-5));
  });
});

describe('backends and objectives', () => {
  it('the pure-JS cpu backend gives the same values as wasm', async () => {
    const run = () =>
      tf.tidy(() => {
        const [p, q] = [tf.tensor2d(a, [B, D]), tf.tensor2d(b, [B, D])];
        return [ntXent(p, q), infoNCE(p, q), barlowTwinsLoss(p, q)].map((t) => t.dataSync()[0]!);
      });
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await tf.setBackend('wasm');
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-5);
  });

  it('selfSupervisedObjective dispatches by name and validates once', () => {
    const [p, q] = [tf.tensor2d(a, [B, D]), tf.tensor2d(b, [B, D])];
    const v = (t: tf.Scalar) => t.dataSync()[0]!;
    expect(v(selfSupervisedObjective('infonce', { temperature: 0.3 })(p, q))).toBeCloseTo(v(infoNCE(p, q, { temperature: 0.3 })), 6);
    expect(v(selfSupervisedObjective('ntxent')(p, q))).toBeCloseTo(v(ntXent(p, q)), 6);
    expect(v(selfSupervisedObjective('barlow', { standardize: 'unbiased' })(p, q))).toBeCloseTo(v(barlowTwinsLoss(p, q, { standardize: 'unbiased' })), 5);
    expect(() => selfSupervisedObjective('simsiam')).toThrow(/unknown objective 'simsiam'; use one of infonce, ntxent, barlow/);
    expect(() => selfSupervisedObjective('barlow', { lambda: -1 })).toThrow(/--lambda/);
    tf.dispose([p, q]);
  });

  it('bad batches give one clear error', () => {
    const p = tf.zeros([4, 3]) as tf.Tensor2D;
    const q = tf.zeros([4, 2]) as tf.Tensor2D;
    const one = tf.zeros([1, 3]) as tf.Tensor2D;
    expect(() => infoNCE(p, q)).toThrow(/z1 \[4, 3\] and z2 \[4, 2\] must have the same shape/);
    expect(() => ntXent(one, one)).toThrow(/at least 2 images/);
    expect(() => ntXent(p, p, { temperature: 0 })).toThrow(/temperature must be/);
    expect(() => barlowTwinsLoss(p, p, { standardize: 'batch' as 'biased' })).toThrow(/standardize must be 'biased' or 'unbiased'/);
    expect(() => barlowTwinsLoss(tf.zeros([4]) as unknown as tf.Tensor2D, p)).toThrow(/rank 2/);
    tf.dispose([p, q, one]);
  });
});
