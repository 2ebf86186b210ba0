// Depthwise convolution gradients for wasm (MobileFaceNet's depthwise blocks and its 7x7 GDC need them;
// tfjs-backend-wasm ships neither).
import { channelDot } from './channel-loops.js';
import { convGeometry, dilatedPaddedGradient, transposedConvFits, type Pair } from './conv-geometry.js';
import { f32, free, run, view, type KernelFn, type TensorInfo as Info, type WasmBackend as Backend } from './wasm-util.js';

/** dW[kh,kw,c,m] = Σ_{b,oh,ow} x[b, ih, iw, c] · dy[b,oh,ow,c·M+m], accumulated in float64. */
export function depthwiseFilterGradient(
  backend: Backend,
  x: Info,
  dy: Info,
  filterShape: [number, number, number, number],
  strides: Pair,
  pad: unknown,
  dimRoundingMode: unknown,
  dilations: Pair = 1,
) {
  const g = convGeometry(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const [kH, kW, C, M] = filterShape;
  const acc = new Float64Array(kH * kW * C * M);
  const xv = f32(backend, x);
  const dv = f32(backend, dy);
  if (M > 1 && g.strideW === 1) {
    // each multiplier's dy channels de-interleaved, so every multiplier takes the contiguous-run path below
    const n = g.batch * g.outH * g.outW;
    const slice = new Float32Array(n * C);
    const accM = new Float64Array(kH * kW * C);
    for (let m = 0; m < M; m++) {
      multiplierChannels(dv, M, m, slice);
      accM.fill(0);
      accumulateTaps(g, xv, slice, C, 1, accM);
      for (let t = 0; t < kH * kW * C; t++) acc[t * M + m] = accM[t]!;
    }
  } else {
    accumulateTaps(g, xv, dv, C, M, acc);
  }
  const out = backend.makeOutput([kH, kW, C, M], 'float32');
  f32(backend, out).set(acc);
  return out;
}

function accumulateTaps(g: ReturnType<typeof convGeometry>, xv: Float32Array, dv: Float32Array, C: number, M: number, acc: Float64Array): void {
  const { kH, kW } = g;
  const cm = C * M;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const tapBase = (kh * kW + kw) * cm;
      // stride 1, M = 1: the tap's valid ow range is one contiguous run of x and dy rows
      const owFrom = Math.max(0, Math.ceil((g.left - kw * g.dilW) / g.strideW));
      const owTo = Math.min(g.outW, Math.floor((g.inW - 1 + g.left - kw * g.dilW) / g.strideW) + 1);
      const runs = M === 1 && g.strideW === 1 && owTo > owFrom;
      for (let b = 0; b < g.batch; b++) {
        for (let oh = 0; oh < g.outH; oh++) {
          const ih = oh * g.strideH + kh * g.dilH - g.top;
          if (ih < 0 || ih >= g.inH) continue;
          if (runs) {
            const iw = owFrom + kw * g.dilW - g.left;
            channelDot(xv, ((b * g.inH + ih) * g.inW + iw) * C, dv, ((b * g.outH + oh) * g.outW + owFrom) * cm, owTo - owFrom, C, acc, tapBase);
            continue;
          }
          for (let ow = 0; ow < g.outW; ow++) {
            const iw = ow * g.strideW + kw * g.dilW - g.left;
            if (iw < 0 || iw >= g.inW) continue;
            const xo = ((b * g.inH + ih) * g.inW + iw) * C;
            const dOff = ((b * g.outH + oh) * g.outW + ow) * cm;
            if (M === 1) {
              for (let c = 0; c < C; c++) acc[tapBase + c]! += xv[xo + c]! * dv[dOff + c]!;
            } else {
              for (let c = 0; c < C; c++) {
                const xc = xv[xo + c]!;
                for (let m = 0; m < M; m++) acc[tapBase + c * M + m]! += xc * dv[dOff + c * M + m]!;
              }
            }
          }
        }
      }
    }
  }
}

/** dx per channel multiplier m: a depthwise "valid" conv of the dilated, padded dy slice with the flipped filter. */
export function depthwiseInputGradient(
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
  const g = convGeometry(inputShape, fs, strides, dilations, pad, dimRoundingMode, true);
  if (!transposedConvFits(g)) {
    throw new Error(`depthwise input gradient: padding larger than the kernel extent is not supported (${JSON.stringify(pad)})`);
  }
  const [kH, kW, C, M] = fs;
  const kHe = (kH - 1) * g.dilH + 1;
  const kWe = (kW - 1) * g.dilW + 1;
  if (g.strideH === 1 && g.strideW === 1 && g.inH + g.top >= g.outH && g.inW + g.left >= g.outW) {
    if (M === 1) return stride1InputGradient(backend, dy, filter, g, 0);
    // one implicit-padding XNNPACK call per multiplier on its de-interleaved dy channels, summed (MobileFaceNet's
    // 64→128 depthwise at 56²: the dilated path below took ~0.6 s of a 3.4 s batch-8 step)
    let sum: Info | undefined;
    for (let m = 0; m < M; m++) {
      const slice = backend.makeOutput([g.batch, g.outH, g.outW, C], 'float32');
      multiplierChannels(f32(backend, dy), M, m, f32(backend, slice));
      const part = stride1InputGradient(backend, slice, filter, g, m);
      free(backend, slice);
      sum = addPart(backend, sum, part);
    }
    return sum!;
  }
  // [M, B, oh, ow, C] so each multiplier's channels are contiguous
  const dyM = M === 1 ? dy : run(backend, 'Transpose', { x: view(dy, [g.batch, g.outH, g.outW, C, M]) }, { perm: [4, 0, 1, 2, 3] });
  const perM = g.batch * g.outH * g.outW * C;
  let out: Info | undefined;
  for (let m = 0; m < M; m++) {
    // fresh buffers per multiplier: XNNPACK caches operators by tensor id (see conv2d-grads.ts)
    const padded = backend.makeOutput([g.batch, g.inH + kHe - 1, g.inW + kWe - 1, C], 'float32');
    dilatedPaddedGradient(f32(backend, dyM).subarray(m * perM, (m + 1) * perM), g, C, f32(backend, padded));
    const flipped = flippedFilter(backend, filter, m);
    const part = run(
      backend,
      'DepthwiseConv2dNative',
      { x: padded, filter: flipped },
      { strides: [1, 1], pad: 'valid', dilations: [g.dilH, g.dilW], dimRoundingMode: undefined, dataFormat: 'NHWC' },
    );
    free(backend, padded, flipped);
    out = addPart(backend, out, part);
  }
  if (dyM !== dy) free(backend, dyM);
  return out!;
}

/**
 * Stride 1, the filters of multiplier m (dy holding that multiplier's channels): dy needs no dilation, so the
 * transposed convolution is the forward depthwise kernel on dy itself with the flipped filter and padding
 * (k_eff − 1 − forward padding) on each side; XNNPACK pads implicitly, with no scatter pass over dy in JS.
 */
function stride1InputGradient(backend: Backend, dy: Info, filter: Info, g: ReturnType<typeof convGeometry>, m: number): Info {
  const [kH, kW] = filter.shape as [number, number, number, number];
  const kHe = (kH - 1) * g.dilH + 1;
  const kWe = (kW - 1) * g.dilW + 1;
  // forward: out = in + top + bottom − k_eff + 1; the transposed pads are k_eff − 1 − top and k_eff − 1 − bottom
  const pad = [
    [0, 0],
    [kHe - 1 - g.top, g.inH + g.top - g.outH],
    [kWe - 1 - g.left, g.inW + g.left - g.outW],
    [0, 0],
  ];
  const flipped = flippedFilter(backend, filter, m);
  const out = run(backend, 'DepthwiseConv2dNative', { x: dy, filter: flipped }, { strides: [1, 1], pad, dilations: [g.dilH, g.dilW], dimRoundingMode: undefined, dataFormat: 'NHWC' });
  free(backend, flipped);
  return out;
}

export const depthwiseConv2dNativeBackpropFilter: KernelFn = ({ inputs, attrs, backend }) =>
  depthwiseFilterGradient(
    backend,
    inputs.x!,
    inputs.dy!,
    attrs.filterShape as [number, number, number, number],
    attrs.strides as Pair,
    attrs.pad,
    attrs.dimRoundingMode,
    (attrs.dilations as Pair | undefined) ?? 1,
  );

export const depthwiseConv2dNativeBackpropInput: KernelFn = ({ inputs, attrs, backend }) =>
  depthwiseInputGradient(
    backend,
    inputs.dy!,
    inputs.filter!,
    attrs.inputShape as number[],
    attrs.strides as Pair,
    attrs.pad,
    attrs.dimRoundingMode,
    (attrs.dilations as Pair | undefined) ?? 1,
  );

/** The spatially flipped filters of channel multiplier m, [kH, kW, C, 1] (a fresh buffer: XNNPACK caches by id). */
function flippedFilter(backend: Backend, filter: Info, m: number): Info {
  const [kH, kW, C, M] = filter.shape as [number, number, number, number];
  const flipped = backend.makeOutput([kH, kW, C, 1], 'float32');
  const w = f32(backend, filter);
  const wf = f32(backend, flipped);
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const src = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * C * M;
      const dst = (kh * kW + kw) * C;
      for (let c = 0; c < C; c++) wf[dst + c] = w[src + c * M + m]!;
    }
  }
  return flipped;
}

/** dst[i] = src[i·M + m]: the channels of multiplier m out of a [..., C·M] tensor (channel c·M + m). */
function multiplierChannels(src: Float32Array, M: number, m: number, dst: Float32Array): void {
  for (let i = 0, j = m; i < dst.length; i++, j += M) dst[i] = src[j]!;
}

/** sum += part (part freed); the first part becomes the sum. */
function addPart(backend: Backend, sum: Info | undefined, part: Info): Info {
  if (!sum) return part;
  const o = f32(backend, sum);
  const p = f32(backend, part);
  for (let i = 0; i < o.length; i++) o[i]! += p[i]!;
  free(backend, part);
  return sum;
}
