// Training-mode BatchNorm as two wasm kernels over the engine's heap, one pass per step of the math. Written with
// tfjs ops, a BN forward and backward is ~14 full-size kernels (moments, broadcast sub/mul/add, sums), each a pass
// over memory with wasm's generic broadcasting loop; on IResNet-18 (56×56, batch 64) they were ~30 % of a training
// step. Here the forward is 2 passes (Σx and Σx², then y) and the backward 2 (the two channel sums, dx),
// with per-channel float64 accumulators (Ioffe & Szegedy 2015, Alg. 1; x̂ = (x − μ)·s, s = 1/√(σ² + ε)):
//   forward:  μ = Σx/n,  σ² = Σ(x − μ)²/n (biased),  y = γ·x̂ + β
//   backward: dβ = Σdy,  dγ = s·Σdy·(x − μ),  dx = γ·s·(dy − dβ/n − (x − μ)·s²·Σdy·(x − μ)/n)
import { channelAffine2, channelSums } from './channel-loops.js';
import { f32, type KernelFn } from './wasm-util.js';

export const BATCH_NORM_TRAINING = 'FacetBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'FacetBatchNormTrainingGrad';

/** Inputs x ([…, C]), gamma, beta ([C]); attr eps. Outputs y, mean, variance (biased), invStd. */
export const batchNormTraining: KernelFn = ({ inputs, attrs, backend }) => {
  const { x, gamma, beta } = inputs as Record<'x' | 'gamma' | 'beta', NonNullable<(typeof inputs)[string]>>;
  const C = x.shape[x.shape.length - 1]!;
  const xs = f32(backend, x);
  const n = xs.length / C;
  // Σx and Σx² in one pass: in float64 the cancellation in Σx² − n·μ² costs ~1e-16·(μ² + σ²)/σ² relative,
  // negligible for activations (float32 accumulators would lose the variance whenever |μ| ≫ σ)
  const sum = new Float64Array(C);
  const sumSq = new Float64Array(C);
  channelSums(xs, xs, C, sum, sumSq);
  const mu = new Float64Array(C);
  const m2 = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    mu[c] = sum[c]! / n;
    m2[c] = Math.max(0, sumSq[c]! - sum[c]! * mu[c]!);
  }
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([C], 'float32');
  const variance = backend.makeOutput([C], 'float32');
  const invStd = backend.makeOutput([C], 'float32');
  const g = f32(backend, gamma);
  const b = f32(backend, beta);
  const meanV = f32(backend, mean);
  const varV = f32(backend, variance);
  const sV = f32(backend, invStd);
  const a = new Float32Array(C);
  const shift = new Float32Array(C);
  const eps = attrs.eps as number;
  for (let c = 0; c < C; c++) {
    meanV[c] = mu[c]!;
    varV[c] = m2[c]! / n;
    const s = 1 / Math.sqrt(m2[c]! / n + eps);
    sV[c] = s;
    a[c] = g[c]! * s;
    shift[c] = b[c]! - mu[c]! * g[c]! * s;
  }
  const ys = f32(backend, y);
  // the heap views are re-read after every makeOutput: allocating may grow (and move) wasm memory
  const xv = f32(backend, x);
  channelAffine2(xv, a, xv, new Float32Array(C), shift, C, ys);
  return [y, mean, variance, invStd];
};

/** Inputs x, dy ([…, C]), mean, invStd, gamma ([C]). Outputs dx, dGamma, dBeta. */
export const batchNormTrainingGrad: KernelFn = ({ inputs, backend }) => {
  const { x, dy, mean, invStd, gamma } = inputs as Record<'x' | 'dy' | 'mean' | 'invStd' | 'gamma', NonNullable<(typeof inputs)[string]>>;
  const C = x.shape[x.shape.length - 1]!;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dGamma = backend.makeOutput([C], 'float32');
  const dBeta = backend.makeOutput([C], 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  const mu = f32(backend, mean);
  const s = f32(backend, invStd);
  const g = f32(backend, gamma);
  const n = xs.length / C;
  const sumDy = new Float64Array(C);
  const sumDyXc = new Float64Array(C);
  channelSums(dys, xs, C, sumDy, sumDyXc);
  // Σdy·(x − μ) = Σdy·x − μ·Σdy, in float64
  for (let c = 0; c < C; c++) sumDyXc[c]! -= mu[c]! * sumDy[c]!;
  const k = new Float32Array(C);
  const cx = new Float32Array(C);
  const c0 = new Float32Array(C);
  const dg = f32(backend, dGamma);
  const db = f32(backend, dBeta);
  for (let c = 0; c < C; c++) {
    k[c] = g[c]! * s[c]!;
    cx[c] = (k[c]! * s[c]! * s[c]! * sumDyXc[c]!) / n;
    c0[c] = (k[c]! * sumDy[c]!) / n;
    dg[c] = sumDyXc[c]! * s[c]!;
    db[c] = sumDy[c]!;
  }
  // dx = k·dy − (x − μ)·cx − c0 = k·dy − cx·x + (μ·cx − c0)
  const r = new Float32Array(C);
  const minusCx = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    r[c] = mu[c]! * cx[c]! - c0[c]!;
    minusCx[c] = -cx[c]!;
  }
  channelAffine2(dys, k, xs, minusCx, r, C, f32(backend, dx));
  return [dx, dGamma, dBeta];
};
