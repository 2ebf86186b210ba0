// Convolution gradients for the wasm backend, built on its XNNPACK forward conv and matmul.
// tfjs-backend-wasm has no Conv2DBackpropFilter at all, and its Conv2DBackpropInput is a naive loop (~1.5 GFLOP/s).
import { convGeometry, dilatedPaddedGradient, gatherTap, transposedConvFits } from './conv-geometry.js';
import { f32, free, original, run, view, type KernelFn } from './wasm-util.js';

type Pair = number | [number, number];

/**
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh·d−top, ow·s+kw·d−left, ci] · dy[b,oh,ow,co].
 * Per tap this is one matmul dyᵀ[Cout,N] · tap[N,Cin]; dy is transposed once so no matmul needs a transposed
 * operand (wasm's transposed matmul is naive).
 */
export function conv2dFilterGradient(
  backend: Parameters<KernelFn>[0]['backend'],
  x: Parameters<KernelFn>[0]['inputs'][string],
  dy: Parameters<KernelFn>[0]['inputs'][string],
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: unknown,
  dimRoundingMode: unknown,
  dilations: Pair = 1,
) {
  const g = convGeometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode);
  const [kH, kW, cIn, cOut] = filterShape;
  const n = g.batch * g.outH * g.outW;
  const dyT = run(backend, 'Transpose', { x: view(dy, [n, cOut]) }, { perm: [1, 0] });
  const taps = backend.makeOutput([kH * kW, cOut, cIn], 'float32');
  const identityTap = kH === 1 && kW === 1 && g.strideH === 1 && g.strideW === 1 && g.top === 0 && g.left === 0;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      // A fresh buffer per tap: XNNPACK caches packed matmul/conv operands by tensor id, so a reused,
      // rewritten buffer would silently be read as its first contents.
      const tap = identityTap ? undefined : backend.makeOutput([n, cIn], 'float32');
      if (tap) gatherTap(f32(backend, x), g, kh, kw, f32(backend, tap));
      const tapInfo = tap ?? x;
      const prod = run(
        backend,
        'BatchMatMul',
        { a: view(dyT, [1, cOut, n]), b: view(tapInfo, [1, n, cIn]) },
        { transposeA: false, transposeB: false },
      );
      f32(backend, taps).set(f32(backend, prod), (kh * kW + kw) * cOut * cIn);
      free(backend, prod);
      if (tap) free(backend, tap);
    }
  }
  free(backend, dyT);
  const out = run(backend, 'Transpose', { x: view(taps, [kH, kW, cOut, cIn]) }, { perm: [0, 1, 3, 2] });
  free(backend, taps);
  return out;
}

/**
 * dx as a stride-1 "valid" forward convolution of the zero-dilated, padded dy with the spatially flipped filter
 * whose in/out channels are swapped (the transposed convolution), so it runs at XNNPACK speed.
 */
export function conv2dInputGradient(
  backend: Parameters<KernelFn>[0]['backend'],
  dy: Parameters<KernelFn>[0]['inputs'][string],
  filter: Parameters<KernelFn>[0]['inputs'][string],
  inputShape: number[],
  strides: Pair,
  pad: unknown,
  dimRoundingMode: unknown,
  dilations: Pair = 1,
) {
  const fs = filter.shape as [number, number, number, number];
  const g = convGeometry(inputShape, fs, strides, dilations, pad, dimRoundingMode);
  if (!transposedConvFits(g)) return undefined;
  const [kH, kW, cIn, cOut] = fs;
  const kHe = (kH - 1) * g.dilH + 1;
  const kWe = (kW - 1) * g.dilW + 1;
  const padded = backend.makeOutput([g.batch, g.inH + kHe - 1, g.inW + kWe - 1, cOut], 'float32');
  const flipped = backend.makeOutput([kH, kW, cOut, cIn], 'float32');
  dilatedPaddedGradient(f32(backend, dy), g, cOut, f32(backend, padded));
  const w = f32(backend, filter);
  const wf = f32(backend, flipped);
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const src = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * cIn * cOut;
      const dst = (kh * kW + kw) * cOut * cIn;
      for (let ci = 0; ci < cIn; ci++) {
        for (let co = 0; co < cOut; co++) wf[dst + co * cIn + ci] = w[src + ci * cOut + co]!;
      }
    }
  }
  const out = run(
    backend,
    'Conv2D',
    { x: padded, filter: flipped },
    { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [g.dilH, g.dilW], dimRoundingMode: undefined },
  );
  free(backend, padded, flipped);
  return out;
}

function assertNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm: Facet supports NHWC only (got ${String(dataFormat)})`);
  }
}

export const conv2DBackpropFilter: KernelFn = ({ inputs, attrs, backend }) => {
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  return conv2dFilterGradient(
    backend,
    inputs.x!,
    inputs.dy!,
    attrs.filterShape as [number, number, number, number],
    attrs.strides as Pair,
    attrs.pad,
    attrs.dimRoundingMode,
  );
};

export const conv2DBackpropInput: KernelFn = (args) => {
  const { inputs, attrs, backend } = args;
  assertNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const out = conv2dInputGradient(
    backend,
    inputs.dy!,
    inputs.filter!,
    attrs.inputShape as number[],
    attrs.strides as Pair,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return out ?? original('Conv2DBackpropInput')(args);
};
