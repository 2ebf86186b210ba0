// Facet's own fused training kernels (libs/engine/src/kernels/batch-norm.ts, prelu-grad.ts), same inputs,
// attributes and outputs, run by the addon's multi-threaded channel loops.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { f32, output, type KernelArgs, type MaybeNative } from './types.js';

/** Inputs x ([…, C]), gamma, beta ([C]); attr eps. Outputs y, mean, variance (biased), invStd. */
export const batchNormTraining: MaybeNative = ({ inputs, attrs, backend }: KernelArgs) => {
  const { x, gamma, beta } = inputs;
  const xs = f32(backend, x);
  const g = f32(backend, gamma);
  const b = f32(backend, beta);
  if (!x || !xs || !g || !b) return undefined;
  const C = x.shape[x.shape.length - 1]!;
  const y = outputPool.take(xs.length);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  const invStd = new Float32Array(C);
  nativeAddon().batchNormTraining(xs, g, b, attrs.eps as number, y, mean, variance, invStd);
  return [output(backend, [...x.shape], y), output(backend, [C], mean), output(backend, [C], variance), output(backend, [C], invStd)];
};

/** Inputs x, dy ([…, C]), mean, invStd, gamma ([C]). Outputs dx, dGamma, dBeta. */
export const batchNormTrainingGrad: MaybeNative = ({ inputs, backend }: KernelArgs) => {
  const { x, dy, mean, invStd, gamma } = inputs;
  const [xs, dys, mu, s, g] = [x, dy, mean, invStd, gamma].map((t) => f32(backend, t));
  if (!x || !xs || !dys || !mu || !s || !g) return undefined;
  const C = x.shape[x.shape.length - 1]!;
  const dx = outputPool.take(xs.length);
  const dGamma = new Float32Array(C);
  const dBeta = new Float32Array(C);
  nativeAddon().batchNormTrainingGrad(xs, dys, mu, s, g, dx, dGamma, dBeta);
  return [output(backend, [...x.shape], dx), output(backend, [C], dGamma), output(backend, [C], dBeta)];
};

/** Inputs x, dy ([…, C]), alpha (C values). Outputs dx, dAlpha (alpha's shape). */
export const preluGrad: MaybeNative = ({ inputs, backend }: KernelArgs) => {
  const { x, dy, alpha } = inputs;
  const [xs, dys, a] = [x, dy, alpha].map((t) => f32(backend, t));
  if (!x || !alpha || !xs || !dys || !a) return undefined;
  const C = x.shape[x.shape.length - 1]!;
  if (a.length !== C) throw new Error(`FacetPreluGrad: alpha must hold one slope per channel (${C}), got shape [${alpha.shape}]`);
  const dx = outputPool.take(xs.length);
  const dAlpha = new Float32Array(C);
  nativeAddon().preluGrad(xs, dys, a, dx, dAlpha);
  return [output(backend, [...x.shape], dx), output(backend, [...alpha.shape], dAlpha)];
};
