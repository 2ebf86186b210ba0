// Each kernel Facet registers on wasm, checked against tfjs's pure-JS cpu backend (or, where tfjs refuses the
// case, a float64 loop) on random shapes: stride 1/2, same/valid/explicit padding, odd sizes, dilation.
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2dFilterGradient, conv2dInputGradient, depthwiseFilterGradient, depthwiseInputGradient, initEngine, tf } from '../src/index.js';
import { phaseAxis } from '../src/kernels/conv2d-input-polyphase.js';
import { maxAbs, maxAbsDiff, onBackend, randomArray } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const explicit = (t: number, b: number, l: number, r: number): Pad => [[0, 0], [t, b], [l, r], [0, 0]];

const convCases: Array<{ x: [number, number, number, number]; k: number; cout: number; stride: number; pad: Pad }> = [
  { x: [2, 9, 9, 3], k: 3, cout: 5, stride: 1, pad: 'same' },
  { x: [2, 9, 7, 4], k: 3, cout: 6, stride: 2, pad: 'same' },
  { x: [1, 8, 8, 16], k: 3, cout: 16, stride: 2, pad: explicit(1, 1, 1, 1) },
  { x: [3, 11, 10, 5], k: 3, cout: 7, stride: 1, pad: 'valid' },
  { x: [2, 10, 10, 8], k: 1, cout: 12, stride: 2, pad: 'valid' },
  { x: [2, 7, 7, 20], k: 1, cout: 9, stride: 1, pad: 'valid' },
  { x: [1, 13, 13, 4], k: 5, cout: 3, stride: 2, pad: 'same' },
  { x: [2, 12, 12, 32], k: 3, cout: 17, stride: 1, pad: explicit(1, 1, 1, 1) },
  // stride-1 input gradient with asymmetric implicit padding of dy (no JS scatter)
  { x: [2, 8, 9, 4], k: 3, cout: 5, stride: 1, pad: explicit(0, 2, 2, 1) },
  // batch ≥ 32: the filter gradient's forward-conv form, incl. far-side padding clamped at 0 (last input row unused)
  { x: [32, 9, 9, 3], k: 3, cout: 5, stride: 1, pad: 'same' },
  { x: [32, 10, 11, 3], k: 3, cout: 4, stride: 2, pad: 'valid' },
  { x: [32, 9, 8, 2], k: 2, cout: 3, stride: 3, pad: explicit(0, 2, 1, 0) },
  // a ViT-style patch embedding (kernel = stride), batch 32 and a 56² map (the form's other trigger)
  { x: [32, 8, 8, 3], k: 4, cout: 6, stride: 4, pad: 'valid' },
  { x: [1, 58, 57, 2], k: 3, cout: 3, stride: 1, pad: 'valid' },
  // strided input gradients by phases: IResNet's 3×3 stride-2 pad-1 and 1×1 stride-2 downsample (odd rows/cols
  // reached by no tap), odd sizes, stride 3, and top padding 2 (a phase whose first dy row reaches no dx row)
  { x: [3, 8, 8, 8], k: 3, cout: 16, stride: 2, pad: explicit(1, 1, 1, 1) },
  { x: [2, 9, 7, 6], k: 3, cout: 5, stride: 2, pad: explicit(1, 1, 1, 1) },
  { x: [2, 8, 9, 8], k: 1, cout: 16, stride: 2, pad: 'valid' },
  { x: [2, 11, 10, 3], k: 4, cout: 2, stride: 3, pad: 'same' },
  { x: [2, 6, 7, 4], k: 3, cout: 3, stride: 2, pad: explicit(2, 2, 2, 1) },
];

function tol(ref: ArrayLike<number>): number {
  return 2e-5 * Math.max(1, maxAbs(ref));
}

type Shape4 = [number, number, number, number];

/** d/dx and d/dW of the scalar f(x, W) on wasm (Facet's kernels) against tfjs's cpu backend, to 2e-5 relative. */
async function expectGradsMatchCpu(label: string, x: [Float32Array, Shape4], w: [Float32Array, Shape4], f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Scalar) {
  const compute = () => {
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D))([tf.tensor4d(...x), tf.tensor4d(...w)]);
    return [gx!, gw!];
  };
  const ref = await onBackend('cpu', compute);
  const got = await onBackend('wasm', compute);
  const dx = maxAbsDiff(got[0]!, ref[0]!);
  const dw = maxAbsDiff(got[1]!, ref[1]!);
  console.log(`${label}: max|dx diff| ${dx.toExponential(2)}, max|dW diff| ${dw.toExponential(2)}`);
  expect(dx).toBeLessThan(tol(ref[0]!));
  expect(dw).toBeLessThan(tol(ref[1]!));
}

describe('Conv2D gradients (Conv2DBackpropFilter added, Conv2DBackpropInput replaced)', () => {
  for (const c of convCases) {
    const name = `x=${c.x} k=${c.k} cout=${c.cout} stride=${c.stride} pad=${JSON.stringify(c.pad)}`;
    it(name, async () => {
      const wShape: Shape4 = [c.k, c.k, c.x[3], c.cout];
      const xs = randomArray(c.x.reduce((a, b) => a * b), 1);
      const ws = randomArray(wShape.reduce((a, b) => a * b), 2);
      await expectGradsMatchCpu(`conv2d ${name}`, [xs, c.x], [ws, wShape], (x, w) => {
        const y = tf.conv2d(x, w, c.stride, c.pad);
        return tf.sum(tf.mul(y, tf.sin(y)));
      });
    });
  }
});

/** float64 loop references for dilated convolutions (tfjs refuses dilation > 1 in conv gradients). */
function refConvGrads(x: Float32Array, xs: number[], w: Float32Array, ws: number[], dy: Float32Array, s: number, d: number, top: number, left: number, oh: number, ow: number, depthwise: boolean) {
  const [B, H, W, C] = xs as [number, number, number, number];
  const [KH, KW, , M] = ws as [number, number, number, number];
  const co = depthwise ? C * M : M;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const ih = i * s + kh * d - top;
            const iw = j * s + kw * d - left;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++) {
              const xi = ((b * H + ih) * W + iw) * C + c;
              for (let m = 0; m < M; m++) {
                const o = depthwise ? c * M + m : m;
                const g = dy[((b * oh + i) * ow + j) * co + o]!;
                const wi = ((kh * KW + kw) * C + c) * M + m;
                dx[xi]! += g * w[wi]!;
                dw[wi]! += g * x[xi]!;
              }
            }
          }
  return { dx, dw };
}

describe('dilated convolution gradients against a float64 loop', () => {
  const cases = [
    { x: [2, 11, 11, 4], k: 3, m: 5, s: 1, d: 2, depthwise: false },
    { x: [1, 12, 9, 3], k: 3, m: 2, s: 1, d: 3, depthwise: false },
    { x: [2, 10, 10, 6], k: 3, m: 1, s: 1, d: 2, depthwise: true },
    { x: [2, 9, 9, 5], k: 3, m: 2, s: 2, d: 1, depthwise: true },
    { x: [2, 7, 7, 8], k: 7, m: 1, s: 1, d: 1, depthwise: true },
  ];
  for (const c of cases) {
    const name = `${c.depthwise ? 'depthwise' : 'conv2d'} x=${c.x} k=${c.k} m=${c.m} stride=${c.s} dilation=${c.d}`;
    it(name, () => {
      const backend = tf.backend() as never;
      const ws = [c.k, c.k, c.x[3]!, c.m];
      const xv = randomArray(c.x.reduce((a, b) => a * b), 3);
      const wv = randomArray(ws.reduce((a, b) => a * b), 4);
      const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
      const w = tf.tensor4d(wv, ws as [number, number, number, number]);
      const pad = c.k === 7 ? 'valid' : 'same';
      const y = c.depthwise ? tf.depthwiseConv2d(x, w, c.s, pad, 'NHWC', c.d) : tf.conv2d(x, w, c.s, pad, 'NHWC', c.d);
      const dyv = randomArray(y.size, 5);
      const dy = tf.tensor(dyv, y.shape);
      const info = tf.backend_util.computeConv2DInfo(c.x as never, ws as never, c.s, c.d, pad, undefined, c.depthwise);
      const ref = refConvGrads(xv, c.x, wv, ws, dyv, c.s, c.d, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth, c.depthwise);
      const fs = ws as [number, number, number, number];
      const gwInfo = c.depthwise
        ? depthwiseFilterGradient(backend, x, dy, fs, c.s, pad, undefined, c.d)
        : conv2dFilterGradient(backend, x, dy, fs, c.s, pad, undefined, c.d);
      const gxInfo = c.depthwise
        ? depthwiseInputGradient(backend, dy, w, c.x, c.s, pad, undefined, c.d)
        : conv2dInputGradient(backend, dy, w, c.x, c.s, pad, undefined, c.d)!;
      const gw = tf.engine().makeTensorFromTensorInfo(gwInfo);
      const gx = tf.engine().makeTensorFromTensorInfo(gxInfo);
      const dW = maxAbsDiff(gw.dataSync(), ref.dw);
      const dX = maxAbsDiff(gx.dataSync(), ref.dx);
      console.log(`${name}: max|dx diff| ${dX.toExponential(2)}, max|dW diff| ${dW.toExponential(2)}`);
      expect(gx.shape).toEqual(c.x);
      expect(dW).toBeLessThan(2e-5 * Math.max(1, maxAbs(ref.dw)));
      expect(dX).toBeLessThan(2e-5 * Math.max(1, maxAbs(ref.dx)));
      tf.dispose([x, w, y, dy, gw, gx]);
    });
  }
});

describe('DepthwiseConv2dNative gradients (added)', () => {
  const cases: Array<{ x: [number, number, number, number]; k: number; m: number; stride: number; pad: Pad }> = [
    { x: [2, 9, 9, 6], k: 3, m: 1, stride: 1, pad: 'same' },
    { x: [2, 8, 7, 5], k: 2, m: 1, stride: 1, pad: 'same' },
    { x: [2, 8, 9, 4], k: 3, m: 1, stride: 1, pad: explicit(0, 2, 2, 1) },
    { x: [2, 10, 9, 4], k: 3, m: 1, stride: 2, pad: explicit(1, 1, 1, 1) },
    { x: [2, 7, 7, 16], k: 7, m: 1, stride: 1, pad: 'valid' },
    // C % 8 = 0 with borders: the filter gradient's per-row channel dot products (8 channels in registers)
    { x: [2, 9, 10, 16], k: 3, m: 1, stride: 1, pad: 'same' },
    { x: [1, 8, 8, 3], k: 3, m: 2, stride: 2, pad: 'same' },
    // stride 1 with a channel multiplier (MobileFaceNet's widening depthwise): one XNNPACK call per multiplier
    { x: [2, 9, 8, 4], k: 3, m: 2, stride: 1, pad: 'same' },
    { x: [1, 7, 9, 3], k: 3, m: 3, stride: 1, pad: explicit(0, 2, 2, 1) },
    { x: [2, 6, 7, 8], k: 3, m: 2, stride: 1, pad: 'same' },
  ];
  for (const c of cases) {
    const name = `x=${c.x} k=${c.k} multiplier=${c.m} stride=${c.stride} pad=${JSON.stringify(c.pad)}`;
    it(name, async () => {
      const wShape: Shape4 = [c.k, c.k, c.x[3], c.m];
      const xs = randomArray(c.x.reduce((a, b) => a * b), 7);
      const ws = randomArray(wShape.reduce((a, b) => a * b), 8);
      await expectGradsMatchCpu(`depthwise ${name}`, [xs, c.x], [ws, wShape], (x, w) => tf.sum(tf.square(tf.depthwiseConv2d(x, w, c.stride, c.pad))));
    });
  }
});

describe('replaced reductions, matmul, slice and the gather gradient', () => {
  it('UnsortedSegmentSum via the gradient of gather (repeated and unused indices)', async () => {
    const table = randomArray(7 * 5, 11);
    const compute = () => {
      const t = tf.tensor2d(table, [7, 5]);
      const idx = tf.tensor1d([3, 0, 3, 6, 3, 1], 'int32');
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a as tf.Tensor2D, idx), tf.range(1, 31).reshape([6, 5]))))(t);
      return [g, tf.unsortedSegmentSum(tf.tensor2d(table, [7, 5]), tf.tensor1d([0, 2, 2, -1, 9, 1, 0], 'int32'), 4)];
    };
    const ref = await onBackend('cpu', compute);
    const got = await onBackend('wasm', compute);
    expect(maxAbsDiff(got[0]!, ref[0]!)).toBe(0);
    expect(maxAbsDiff(got[1]!, ref[1]!)).toBeLessThan(1e-6);
  });

  it('BatchMatMul with transposed operands, Sum/Mean over leading axes, Slice, OneHot (float32 and int32)', async () => {
    const a = randomArray(3 * 37 * 29, 21);
    const b = randomArray(3 * 29 * 41, 22);
    const x = randomArray(4 * 9 * 9 * 7, 23);
    const compute = () => {
      const A = tf.tensor3d(a, [3, 37, 29]);
      const B = tf.tensor3d(b, [3, 29, 41]);
      const X = tf.tensor4d(x, [4, 9, 9, 7]);
      return [
        tf.matMul(A, B),
        tf.matMul(A.transpose([0, 2, 1]), B, true, false),
        tf.matMul(A, B.transpose([0, 2, 1]), false, true),
        tf.matMul(A.transpose([0, 2, 1]), B.transpose([0, 2, 1]), true, true),
        tf.sum(X, [0, 1, 2]),
        tf.mean(X, [0, 1, 2], true),
        tf.sum(X, [0]),
        tf.mean(X, [1, 2]),
        tf.slice(X, [1, 2, 3, 0], [2, 5, 4, 7]),
        tf.slice(X, [0, 1, 0, 2], [4, 3, 9, 3]),
        tf.slice(X, [3, 0, 0, 0], [1, 9, 9, 7]),
        tf.oneHot(tf.tensor1d([2, 0, 4, -1, 3], 'int32'), 5, 1, 0, 'float32'),
        tf.oneHot(tf.tensor1d([1, 1, 0], 'int32'), 3, 2.5, -0.5, 'float32'),
        tf.cast(tf.oneHot(tf.tensor1d([1, 2], 'int32'), 3), 'float32'),
      ];
    };
    const ref = await onBackend('cpu', compute);
    const got = await onBackend('wasm', compute);
    ref.forEach((r, i) => expect(maxAbsDiff(got[i]!, r), `output ${i}`).toBeLessThan(1e-4 * Math.max(1, maxAbs(r))));
  });
});

describe('strided input gradient by phases', () => {
  it('IResNet stride-2 geometry: one tap on even rows, two on odd; 1×1 stride 2 reaches only even rows', () => {
    // 3×3, stride 2, pad 1, 56 → 28
    expect(phaseAxis(0, 2, 3, 1, 56, 28)).toEqual({ count: 28, taps: [1], padBefore: 0, padAfter: 0, skip: 0, outCount: 28 });
    expect(phaseAxis(1, 2, 3, 1, 56, 28)).toEqual({ count: 28, taps: [2, 0], padBefore: 0, padAfter: 1, skip: 0, outCount: 28 });
    expect(phaseAxis(1, 2, 1, 0, 56, 28)).toEqual({ count: 28, taps: [], padBefore: 0, padAfter: 0, skip: 0, outCount: 0 });
    // the last dy row reaches no input row (bottom padding 2, 9 rows, k 2, stride 3): more outputs than dx rows
    expect(phaseAxis(0, 3, 2, 0, 9, 4)).toEqual({ count: 3, taps: [0], padBefore: 0, padAfter: 0, skip: 0, outCount: 4 });
    // a phase whose dy window starts after row 0 (large top padding): its first outputs are skipped
    expect(phaseAxis(0, 2, 3, 2, 6, 4)).toEqual({ count: 3, taps: [2, 0], padBefore: 0, padAfter: 0, skip: 0, outCount: 3 });
    expect(phaseAxis(1, 2, 3, 2, 6, 4)).toEqual({ count: 3, taps: [1], padBefore: 0, padAfter: 0, skip: 1, outCount: 4 });
  });
});
