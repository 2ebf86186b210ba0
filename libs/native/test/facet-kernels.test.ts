// Facet's fused training kernels on the native backend against float64 closed forms (the engine's own wasm
// versions are tested the same way): training-mode BatchNorm forward/backward and PReLU backward.
import { describe, expect, it } from 'vitest';
import { addonLoaded, FACET_NAMES, maxAbs, maxAbsDiff, randomArray, tf } from './helpers.js';

function bnReference(x: Float32Array, dy: Float32Array, g: Float32Array, b: Float32Array, C: number, eps: number) {
  const n = x.length / C;
  const mean = new Float64Array(C);
  const v = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C]! += x[i]! / n;
  for (let i = 0; i < x.length; i++) v[i % C]! += (x[i]! - mean[i % C]!) ** 2 / n;
  const s = Array.from(v, (vc) => 1 / Math.sqrt(vc + eps));
  const y = Float64Array.from(x, (xi, i) => g[i % C]! * (xi - mean[i % C]!) * s[i % C]! + b[i % C]!);
  const dBeta = new Float64Array(C);
  const dGamma = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    dBeta[c]! += dy[i]!;
    dGamma[c]! += dy[i]! * (x[i]! - mean[c]!) * s[c]!;
  }
  const dx = Float64Array.from(x, (xi, i) => {
    const c = i % C;
    const xhat = (xi - mean[c]!) * s[c]!;
    return (g[c]! * s[c]! / n) * (n * dy[i]! - dBeta[c]! - xhat * dGamma[c]!);
  });
  return { y, mean, variance: v, invStd: Float64Array.from(s), dx, dGamma, dBeta };
}

const rel = (got: ArrayLike<number>, want: ArrayLike<number>) => maxAbsDiff(got, want) / Math.max(1e-30, maxAbs(want));

describe.skipIf(!addonLoaded)('Facet fused kernels on native', () => {
  for (const [rows, C] of [[2 * 7 * 7, 8], [3 * 5 * 5, 13], [64, 512], [4 * 28 * 28, 64]]) {
    it(`BatchNorm training forward and backward, ${rows} rows × ${C} channels (offset mean)`, async () => {
      await tf.setBackend('native');
      const x = randomArray(rows * C, rows + C).map((v) => 3 + 2 * v); // |μ| > σ: catches one-pass variance loss
      const dy = randomArray(rows * C, rows * C);
      const g = randomArray(C, 7).map((v) => 1 + 0.5 * v);
      const b = randomArray(C, 8);
      const ref = bnReference(x, dy, g, b, C, 1e-5);
      const xt = tf.tensor2d(x, [rows, C]);
      const [y, mean, variance, invStd] = tf.engine().runKernel(FACET_NAMES.batchNormTraining, { x: xt, gamma: tf.tensor1d(g), beta: tf.tensor1d(b) }, { eps: 1e-5 }) as tf.Tensor[];
      const [dx, dGamma, dBeta] = tf.engine().runKernel(FACET_NAMES.batchNormTrainingGrad, { x: xt, dy: tf.tensor2d(dy, [rows, C]), mean: mean!, invStd: invStd!, gamma: tf.tensor1d(g) }) as tf.Tensor[];
      const errs = [rel(y!.dataSync(), ref.y), rel(mean!.dataSync(), ref.mean), rel(variance!.dataSync(), ref.variance), rel(invStd!.dataSync(), ref.invStd),
        rel(dx!.dataSync(), ref.dx), rel(dGamma!.dataSync(), ref.dGamma), rel(dBeta!.dataSync(), ref.dBeta)];
      for (const e of errs) expect(e).toBeLessThan(1e-5);
      tf.disposeVariables();
    });
  }

  it('PReLU gradient: dx and per-channel dα against a float64 loop', async () => {
    await tf.setBackend('native');
    const rows = 300;
    const C = 24;
    const x = randomArray(rows * C, 1);
    const dy = randomArray(rows * C, 2);
    const alpha = randomArray(C, 3).map((v) => 0.25 + 0.1 * v);
    const dxRef = Float64Array.from(x, (v, i) => (v > 0 ? dy[i]! : alpha[i % C]! * dy[i]!));
    const daRef = new Float64Array(C);
    x.forEach((v, i) => {
      if (v <= 0) daRef[i % C]! += dy[i]! * v;
    });
    const [dx, da] = tf.engine().runKernel(FACET_NAMES.preluGrad, { x: tf.tensor2d(x, [rows, C]), dy: tf.tensor2d(dy, [rows, C]), alpha: tf.tensor3d(alpha, [1, 1, C]) }) as tf.Tensor[];
    expect(da!.shape).toEqual([1, 1, C]);
    expect(rel(dx!.dataSync(), dxRef)).toBeLessThan(1e-7);
    expect(rel(da!.dataSync(), daRef)).toBeLessThan(1e-6);
  });

  it('rejects an alpha that is not one slope per channel', async () => {
    await tf.setBackend('native');
    expect(() => tf.engine().runKernel(FACET_NAMES.preluGrad, { x: tf.zeros([4, 6]), dy: tf.zeros([4, 6]), alpha: tf.zeros([3]) })).toThrow(/one slope per channel/);
  });
});
