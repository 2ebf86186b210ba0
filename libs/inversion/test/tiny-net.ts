// A tiny conv+BN network with the Backbone surface the inversion uses, and an independent float64 loop
// implementation of the same network and of the BN statistic loss, for reference values and finite differences.
import type { Backbone, BatchNormLayer } from '@facet/backbones';
import { tf } from '@facet/engine';
import { uniformFloat64 as randomArray } from '@facet/test-utils';
export { maxAbs, maxAbsDiff } from '@facet/test-utils';
export { randomArray };

interface Bn64 {
  mean: Float64Array;
  var: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  eps: number;
}

/** Plain parameters of the tiny net: conv3×3 (3→4) → BN → tanh → conv1×1 (4→5) → BN → tanh → mean pool → fc (5→3) → BN1d. */
export interface TinyParams {
  w1: Float64Array; // [3,3,3,4] HWIO
  w2: Float64Array; // [1,1,4,5]
  fc: Float64Array; // [5,3]
  bn: [Bn64, Bn64, Bn64];
}

export function tinyParams(seed = 1): TinyParams {
  const bn = (c: number, s: number): Bn64 => ({
    mean: randomArray(c, s).map((v) => 0.3 * v),
    var: randomArray(c, s + 1).map((v) => 0.5 + 0.4 * v),
    gamma: randomArray(c, s + 2).map((v) => 1 + 0.2 * v),
    beta: randomArray(c, s + 3).map((v) => 0.1 * v),
    eps: 1e-5,
  });
  return {
    w1: randomArray(3 * 3 * 3 * 4, seed).map((v) => 0.4 * v),
    w2: randomArray(4 * 5, seed + 10).map((v) => 0.6 * v),
    fc: randomArray(5 * 3, seed + 20).map((v) => 0.7 * v),
    bn: [bn(4, seed + 30), bn(5, seed + 40), bn(3, seed + 50)],
  };
}

/** The tiny net on tfjs, as a Backbone (only the members the inversion uses are real). */
export function tinyBackbone(p: TinyParams, size: number): Backbone {
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const w1 = tf.tensor4d(f32(p.w1), [3, 3, 3, 4]);
  const w2 = tf.tensor4d(f32(p.w2), [1, 1, 4, 5]);
  const fc = tf.tensor2d(f32(p.fc), [5, 3]);
  const layers: BatchNormLayer[] = p.bn.map((b, i) => ({
    name: `bn${i + 1}`,
    channels: b.mean.length,
    eps: b.eps,
    momentum: 0.1,
    runningMean: tf.variable(tf.tensor1d(f32(b.mean)), false),
    runningVar: tf.variable(tf.tensor1d(f32(b.var)), false),
    weight: tf.variable(tf.tensor1d(f32(b.gamma)), false),
    bias: tf.variable(tf.tensor1d(f32(b.beta)), false),
  }));
  const bnApply = (l: BatchNormLayer, a: tf.Tensor, hook?: (l: BatchNormLayer, a: tf.Tensor) => void) => {
    hook?.(l, a);
    return tf.add(tf.mul(tf.div(tf.sub(a, l.runningMean), tf.sqrt(tf.add(l.runningVar, l.eps))), l.weight), l.bias);
  };
  const forward = (x: tf.Tensor4D, hook?: (l: BatchNormLayer, a: tf.Tensor) => void) => {
    let a: tf.Tensor = tf.conv2d(x, w1, 1, 'same');
    a = tf.tanh(bnApply(layers[0]!, a, hook));
    a = tf.conv2d(a as tf.Tensor4D, w2, 1, 'same');
    a = tf.tanh(bnApply(layers[1]!, a, hook));
    const pooled = tf.mean(a, [1, 2]) as tf.Tensor2D;
    return bnApply(layers[2]!, tf.matMul(pooled, fc), hook) as tf.Tensor2D;
  };
  const backbone = {
    name: 'tiny',
    embeddingSize: 3,
    inputSize: size,
    apply: (x: tf.Tensor4D, opts: { onBatchNorm?: (l: BatchNormLayer, a: tf.Tensor) => void } = {}) =>
      opts.onBatchNorm ? forward(x, opts.onBatchNorm) : tf.tidy(() => forward(x)),
    batchNorms: () => layers,
    dispose: () => {
      tf.dispose([w1, w2, fc]);
      for (const l of layers) tf.dispose([l.runningMean, l.runningVar, l.weight, l.bias]);
    },
  };
  return backbone as unknown as Backbone;
}

/** Float64 forward of the tiny net on x [n,h,w,3] (row-major NHWC); returns the inputs of the three BN layers. */
export function tinyBnInputs64(p: TinyParams, x: Float64Array, n: number, h: number, w: number): Array<{ data: Float64Array; rows: number; c: number }> {
  const conv = (src: Float64Array, cin: number, k: number, wt: Float64Array, cout: number) => {
    const out = new Float64Array(n * h * w * cout);
    const r = (k - 1) / 2;
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++)
          for (let o = 0; o < cout; o++) {
            let s = 0;
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const sy = y + ky - r;
                const sx = xx + kx - r;
                if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
                for (let i = 0; i < cin; i++) s += src[((b * h + sy) * w + sx) * cin + i]! * wt[((ky * k + kx) * cin + i) * cout + o]!;
              }
            out[((b * h + y) * w + xx) * cout + o] = s;
          }
    return out;
  };
  const bnTanh = (a: Float64Array, c: number, bn: Bn64) =>
    a.map((v, i) => Math.tanh(((v - bn.mean[i % c]!) / Math.sqrt(bn.var[i % c]! + bn.eps)) * bn.gamma[i % c]! + bn.beta[i % c]!));
  const a1 = conv(x, 3, 3, p.w1, 4);
  const a2 = conv(bnTanh(a1, 4, p.bn[0]), 4, 1, p.w2, 5);
  const t2 = bnTanh(a2, 5, p.bn[1]);
  const pooled = new Float64Array(n * 5);
  for (let b = 0; b < n; b++) for (let q = 0; q < h * w; q++) for (let c = 0; c < 5; c++) pooled[b * 5 + c]! += t2[(b * h * w + q) * 5 + c]! / (h * w);
  const a3 = new Float64Array(n * 3);
  for (let b = 0; b < n; b++) for (let o = 0; o < 3; o++) for (let c = 0; c < 5; c++) a3[b * 3 + o]! += pooled[b * 5 + c]! * p.fc[c * 3 + o]!;
  return [
    { data: a1, rows: n * h * w, c: 4 },
    { data: a2, rows: n * h * w, c: 5 },
    { data: a3, rows: n, c: 3 },
  ];
}

/** Float64 BN statistic loss (both forms) from the layer inputs, written from the formulas, not from the TS code. */
export function bnLoss64(
  p: TinyParams,
  inputs: Array<{ data: Float64Array; rows: number; c: number }>,
  form: 'paper' | 'deepinversion',
  firstMultiplier = 1,
  layers: number[] = [0, 1, 2],
): number {
  let total = 0;
  for (const l of layers) {
    const { data, rows, c } = inputs[l]!;
    const bn = p.bn[l]!;
    let sm = 0;
    let sv = 0;
    for (let ch = 0; ch < c; ch++) {
      let mu = 0;
      for (let r = 0; r < rows; r++) mu += data[r * c + ch]!;
      mu /= rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (data[r * c + ch]! - mu) ** 2;
      v /= rows;
      if (form === 'paper') {
        sm += (mu - bn.mean[ch]!) ** 2;
        sv += (Math.sqrt(v + bn.eps) - Math.sqrt(bn.var[ch]! + bn.eps)) ** 2;
      } else {
        sm += (mu - bn.mean[ch]!) ** 2;
        sv += (v - bn.var[ch]!) ** 2;
      }
    }
    const r = form === 'paper' ? sm + sv : Math.sqrt(sm) + Math.sqrt(sv);
    total += (l === 0 ? firstMultiplier : 1) * r;
  }
  return total;
}

/** Central finite differences of a float64 function. */
export function finiteDifferences(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const y = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    y[i] = x[i]! + h;
    const a = f(y);
    y[i] = x[i]! - h;
    const b = f(y);
    y[i] = x[i]!;
    g[i] = (a - b) / (2 * h);
  }
  return g;
}

