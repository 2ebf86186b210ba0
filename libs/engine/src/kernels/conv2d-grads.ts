// Convolution gradients for the wasm backend, built on its XNNPACK forward conv and matmul.
// tfjs-backend-wasm has no Conv2DBackpropFilter at all, and its Conv2DBackpropInput is a naive loop (~1.5 GFLOP/s).
import { convGeometry, dilatedPaddedGradient, gatherTap, transposedConvFits, type ConvGeometry, type Pair } from './conv-geometry.js';
import { inputGradientByPhases } from './conv2d-input-polyphase.js';
import { f32, free, original, run, view, type KernelFn, type TensorInfo as Info, type WasmBackend as Backend } from './wasm-util.js';

/**
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·s+kh·d−top, ow·s+kw·d−left, ci] · dy[b,oh,ow,co].
 * Kernels larger than 1×1 go through one forward convolution (filterGradientByConv) when its inner depth (the
 * batch) or its number of kernel positions (oH·oW) is large. Otherwise, and for 1×1 kernels, this is one matmul
 * per tap, dyᵀ[Cout,N] · tap[N,Cin]; dy is transposed once so no matmul needs a transposed operand (wasm's
 * transposed matmul is naive).
 */
export function conv2dFilterGradient(
  backend: Backend,
  x: Info,
  dy: Info,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: unknown,
  dimRoundingMode: unknown,
  dilations: Pair = 1,
) {
  const g = convGeometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode);
  const [kH, kW, cIn, cOut] = filterShape;
  if (kH * kW > 1 && (g.batch >= 32 || g.outH * g.outW >= 56 * 56)) return filterGradientByConv(backend, x, dy, g, filterShape);
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
 * dW as one XNNPACK forward convolution with the batch as channels: with xᵀ = x as [Cin,H,W,B] images and
 * dyᵀ = dy as an [oH,oW,B,Cout] filter, dW[kh,kw,ci,co] = Σ_{oh,ow,b} xᵀ[ci, kh·d + oh·s − top, kw·d + ow·s − left, b]
 * · dyᵀ[oh,ow,b,co]: a correlation at stride d (the layer's dilation) with dilation s (its stride), whose output
 * [Cin, kH, kW, Cout] is dW with the axes rotated. XNNPACK walks the oH·oW "kernel" positions with an inner depth
 * of B, so it pays off with a large batch or a large map. Measured per layer: IResNet-18 width 0.25 at batch 64,
 * 3×3 layers 2–2.7× faster than a matmul per tap (56²×16: 252 → 93 ms); full width at batch 8: 112²×64 1359 →
 * 950 ms, 56²×64 equal, but 2× slower from 28² down (14²×256: 100 → 198 ms), hence the rule in
 * conv2dFilterGradient. 1×1 layers keep the per-tap matmul (no gather at stride 1; faster at stride 2).
 */
function filterGradientByConv(backend: Backend, x: Info, dy: Info, g: ConvGeometry, filterShape: [number, number, number, number]): Info {
  const [kH, kW, cIn, cOut] = filterShape;
  const xT = run(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = run(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  // the far side is padded just enough for kH×kW outputs (never negative); an extra row/column is dropped below
  const bottom = Math.max(0, (kH - 1) * g.dilH + (g.outH - 1) * g.strideH + 1 - g.inH - g.top);
  const right = Math.max(0, (kW - 1) * g.dilW + (g.outW - 1) * g.strideW + 1 - g.inW - g.left);
  const rotated = run(
    backend,
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [g.dilH, g.dilW],
      pad: [
        [0, 0],
        [g.top, bottom],
        [g.left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [g.strideH, g.strideW],
      dimRoundingMode: undefined,
    },
  );
  free(backend, xT, dyT);
  const [, fH, fW] = rotated.shape as [number, number, number, number];
  const src = f32(backend, rotated);
  const out = backend.makeOutput([kH, kW, cIn, cOut], 'float32');
  const dst = f32(backend, out);
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      for (let ci = 0; ci < cIn; ci++) {
        const from = ((ci * fH + kh) * fW + kw) * cOut;
        dst.set(src.subarray(from, from + cOut), ((kh * kW + kw) * cIn + ci) * cOut);
      }
    }
  }
  free(backend, rotated);
  return out;
}

/**
 * dx as a stride-1 "valid" forward convolution of the zero-dilated, padded dy with the spatially flipped filter
 * whose in/out channels are swapped (the transposed convolution), so it runs at XNNPACK speed. Strided layers go
 * by phases (conv2d-input-polyphase.ts) when they can, which skips the multiply-adds on the inserted zeros.
 */
export function conv2dInputGradient(
  backend: Backend,
  dy: Info,
  filter: Info,
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
  // Stride 1: dy needs no zero-dilation, so XNNPACK pads it implicitly by (k_eff − 1 − forward padding) on each
  // side and no padded copy is written in JS (as depthwise-grads.ts does for its stride-1 case).
  const stride1 = g.strideH === 1 && g.strideW === 1 && g.inH + g.top >= g.outH && g.inW + g.left >= g.outW;
  if (!stride1) {
    const byPhases = inputGradientByPhases(backend, dy, filter, g);
    if (byPhases) return byPhases;
  }
  const padded = stride1 ? dy : backend.makeOutput([g.batch, g.inH + kHe - 1, g.inW + kWe - 1, cOut], 'float32');
  const dyPad = stride1
    ? [
        [0, 0],
        [kHe - 1 - g.top, g.inH + g.top - g.outH],
        [kWe - 1 - g.left, g.inW + g.left - g.outW],
        [0, 0],
      ]
    : 'valid';
  if (!stride1) dilatedPaddedGradient(f32(backend, dy), g, cOut, f32(backend, padded));
  const flipped = backend.makeOutput([kH, kW, cOut, cIn], 'float32');
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
    { strides: [1, 1], pad: dyPad, dataFormat: 'NHWC', dilations: [g.dilH, g.dilW], dimRoundingMode: undefined },
  );
  free(backend, flipped);
  if (!stride1) free(backend, padded);
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
