// marginLoss (engine, float32, autodiff) against the float64 closed form, which is itself checked against finite
// differences. Every preset × rule × gradient mode, K = 1 and sub-center K = 3, with samples where θ + m2 > π.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { MARGIN_PRESETS, marginAccuracy, marginLoss, type MarginOptions } from '../src/index.js';
import { finiteDifferences, makeProblem, refMarginLoss, relErr, type RefMargin, type RefProblem } from './reference.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

function engineLoss(p: RefProblem, opts: MarginOptions) {
  const emb = tf.tensor2d(Float32Array.from(p.emb), [p.B, p.D]);
  const centers =
    p.K === 1 ? tf.tensor2d(Float32Array.from(p.centers), [p.C, p.D]) : tf.tensor3d(Float32Array.from(p.centers), [p.C, p.K, p.D]);
  const labels = tf.tensor1d(p.labels, 'int32');
  const { value, grads } = tf.valueAndGrads((e: tf.Tensor, w: tf.Tensor) =>
    marginLoss(e as tf.Tensor2D, w as tf.Tensor2D | tf.Tensor3D, labels, opts),
  )([emb, centers]);
  const out = { loss: value.dataSync()[0]!, gEmb: grads[0]!.dataSync().slice(), gCenters: grads[1]!.dataSync().slice() };
  tf.dispose([emb, centers, labels, value, ...grads]);
  return out;
}

const presets = Object.entries(MARGIN_PRESETS) as Array<[string, (typeof MARGIN_PRESETS)[keyof typeof MARGIN_PRESETS]]>;

describe('float64 reference is right (closed-form gradient = finite differences, exact mode)', () => {
  for (const K of [1, 3]) {
    for (const rule of ['plain', 'th_mm'] as const) {
      it(`all presets, rule ${rule}, K=${K}`, () => {
        for (const [, preset] of presets) {
          const p = makeProblem(6, 8, 5, K, 11 + K);
          const m: RefMargin = { ...preset, rule, gradient: 'exact' };
          const ref = refMarginLoss(p, m);
          expect(relErr(ref.gEmb, finiteDifferences(p, m, 'emb'))).toBeLessThan(1e-6);
          expect(relErr(ref.gCenters, finiteDifferences(p, m, 'centers'))).toBeLessThan(1e-6);
        }
      });
    }
  }
});

describe('marginLoss matches the float64 reference', () => {
  for (const K of [1, 3]) {
    for (const [name, preset] of presets) {
      for (const rule of ['plain', 'th_mm'] as const) {
        for (const gradient of ['exact', 'straight_through'] as const) {
          it(`${name} K=${K} rule=${rule} gradient=${gradient}`, () => {
            const p = makeProblem(6, 8, 5, K, 100 + K);
            const m: RefMargin = { ...preset, rule, gradient };
            const ref = refMarginLoss(p, m);
            // the problem really contains targets beyond the monotone range (θ + m2 > π, or m1·θ > π)
            if (name !== 'cosface') expect(ref.beyondPi.filter(Boolean).length).toBeGreaterThanOrEqual(2);
            const got = engineLoss(p, m);
            expect(Math.abs(got.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-5);
            expect(relErr(got.gEmb, ref.gEmb)).toBeLessThan(2e-4);
            expect(relErr(got.gCenters, ref.gCenters)).toBeLessThan(2e-4);
          });
        }
      }
    }
  }

  it('the modes really differ: straight-through ≠ exact gradient, th_mm ≠ plain loss beyond π', () => {
    const p = makeProblem(6, 8, 5, 1, 7);
    const a = refMarginLoss(p, { ...MARGIN_PRESETS.arcface, rule: 'plain', gradient: 'exact' });
    const b = refMarginLoss(p, { ...MARGIN_PRESETS.arcface, rule: 'plain', gradient: 'straight_through' });
    const c = refMarginLoss(p, { ...MARGIN_PRESETS.arcface, rule: 'th_mm', gradient: 'exact' });
    expect(a.loss).toBe(b.loss);
    expect(relErr(b.gEmb, a.gEmb)).toBeGreaterThan(1e-2);
    expect(Math.abs(c.loss - a.loss)).toBeGreaterThan(1e-3);
    const e = engineLoss(p, { ...MARGIN_PRESETS.arcface, gradient: 'straight_through' });
    expect(relErr(e.gEmb, a.gEmb)).toBeGreaterThan(1e-2);
  });

  it('defaults are rule plain + gradient exact', () => {
    const p = makeProblem(6, 8, 5, 1, 9);
    const ref = refMarginLoss(p, { ...MARGIN_PRESETS.arcface, rule: 'plain', gradient: 'exact' });
    const got = engineLoss(p, MARGIN_PRESETS.arcface);
    expect(relErr(got.gEmb, ref.gEmb)).toBeLessThan(2e-4);
  });

  it('plain rule is non-monotone beyond π: moving θ further from the target can raise the target logit', () => {
    // cos(θ + 0.5) for θ = 2.8 and 3.0: both beyond π − 0.5, and the larger angle has the larger value
    const f = (theta: number) => Math.cos(theta + 0.5);
    expect(f(3.0)).toBeGreaterThan(f(2.8));
  });

  it('no tensor leak across repeated gradient calls', () => {
    const p = makeProblem(6, 8, 5, 3, 5);
    engineLoss(p, MARGIN_PRESETS.arcface);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) engineLoss(p, { ...MARGIN_PRESETS.combined, rule: 'th_mm', gradient: 'straight_through' });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('edge shapes', () => {
  it('a single class gives loss 0 and zero gradients (softmax over one logit)', () => {
    const p = makeProblem(3, 4, 1, 1, 3);
    p.labels.fill(0);
    const got = engineLoss(p, MARGIN_PRESETS.arcface);
    expect(got.loss).toBeCloseTo(0, 6);
    for (const g of got.gEmb) expect(Math.abs(g)).toBeLessThan(1e-6);
  });
});

describe('marginAccuracy', () => {
  it('equals the argmax over class cosines computed in float64', () => {
    for (const K of [1, 3]) {
      const p = makeProblem(12, 8, 5, K, 40 + K);
      // every third row sits on a sub-centre of its own class, so some (not all) predictions are right
      for (let b = 2; b < p.B; b += 3) {
        const r = p.labels[b]! * K + (b % K);
        for (let j = 0; j < p.D; j++) p.emb[b * p.D + j] = Math.fround(p.centers[r * p.D + j]! + 0.05 * p.emb[b * p.D + j]!);
      }
      const ref = refMarginLoss(p, { ...MARGIN_PRESETS.arcface, rule: 'plain', gradient: 'exact' });
      let hits = 0;
      for (let b = 0; b < p.B; b++) {
        let best = 0;
        for (let c = 1; c < p.C; c++) if (ref.cos[b * p.C + c]! > ref.cos[b * p.C + best]!) best = c;
        if (best === p.labels[b]) hits++;
      }
      expect(hits).toBeGreaterThan(0);
      expect(hits).toBeLessThan(p.B);
      const emb = tf.tensor2d(Float32Array.from(p.emb), [p.B, p.D]);
      const centers = K === 1 ? tf.tensor2d(Float32Array.from(p.centers), [p.C, p.D]) : tf.tensor3d(Float32Array.from(p.centers), [p.C, K, p.D]);
      const labels = tf.tensor1d(p.labels, 'int32');
      expect(marginAccuracy(emb, centers, labels)).toBeCloseTo(hits / p.B, 12);
      tf.dispose([emb, centers, labels]);
    }
  });
});

describe('bad input is rejected with a clear message', () => {
  it('shapes, dtypes and label ranges', () => {
    const emb = tf.zeros([4, 8]) as tf.Tensor2D;
    const centers = tf.ones([5, 8]) as tf.Tensor2D;
    const ok = tf.tensor1d([0, 1, 2, 4], 'int32');
    expect(() => marginLoss(emb, tf.ones([5, 7]) as tf.Tensor2D, ok, MARGIN_PRESETS.arcface)).toThrow(/centers have dim 7 but embeddings have dim 8/);
    expect(() => marginLoss(emb, centers, tf.tensor1d([0, 1, 2, 5], 'int32'), MARGIN_PRESETS.arcface)).toThrow(/labels\[3\]=5 is outside \[0, 5\)/);
    expect(() => marginLoss(emb, centers, tf.tensor1d([0, 1, 2], 'int32'), MARGIN_PRESETS.arcface)).toThrow(/length 4/);
    expect(() => marginLoss(emb, centers, tf.tensor1d([0, 1, 2, 3], 'float32'), MARGIN_PRESETS.arcface)).toThrow(/int32/);
    expect(() => marginLoss(emb, centers, ok, { ...MARGIN_PRESETS.arcface, s: 0 })).toThrow(/s=0 must be > 0/);
    expect(() => marginLoss(tf.zeros([4]) as unknown as tf.Tensor2D, centers, ok, MARGIN_PRESETS.arcface)).toThrow(/embeddings must be a 2-D tensor/);
  });
});
