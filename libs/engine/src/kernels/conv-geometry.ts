import { tf } from '../tf.js';

/** Padding and output geometry of a 2-D convolution, as tfjs computes it for the forward pass (NHWC). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  top: number;
  left: number;
}

/** A stride or dilation as tfjs kernels take it: one number for both axes, or [height, width]. */
export type Pair = number | [number, number];

export function convGeometry(
  xShape: number[],
  filterShape: [number, number, number, number],
  strides: Pair,
  dilations: Pair,
  pad: unknown,
  dimRoundingMode: unknown,
  depthwise = false,
): ConvGeometry {
  if (xShape.length !== 4) throw new Error(`convolution input must be rank 4 (NHWC), got shape [${xShape}]`);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad as 'same',
    dimRoundingMode as 'round' | undefined,
    depthwise,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilH: info.dilationHeight,
    dilW: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * Copy one filter tap's input window into `out` ([N, C], N = batch·outH·outW): row n holds
 * x[b, oh·sH + kh·dH − top, ow·sW + kw·dW − left, :] or zeros outside the image. This is the im2col column block
 * for that tap, the operand that turns the filter gradient into plain matmuls.
 */
export function gatherTap(x: Float32Array, g: ConvGeometry, kh: number, kw: number, out: Float32Array): void {
  const C = g.inC;
  const rowStride = g.inW * C;
  const imgStride = g.inH * rowStride;
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      const ih = oh * g.strideH + kh * g.dilH - g.top;
      if (ih < 0 || ih >= g.inH) {
        out.fill(0, o, o + g.outW * C);
        o += g.outW * C;
        continue;
      }
      const rowBase = b * imgStride + ih * rowStride;
      for (let ow = 0; ow < g.outW; ow++) {
        const iw = ow * g.strideW + kw * g.dilW - g.left;
        if (iw < 0 || iw >= g.inW) {
          out.fill(0, o, o + C);
        } else if (C >= 16) {
          const s = rowBase + iw * C;
          out.set(x.subarray(s, s + C), o);
        } else {
          const s = rowBase + iw * C;
          for (let c = 0; c < C; c++) out[o + c] = x[s + c]!;
        }
        o += C;
      }
    }
  }
}

/**
 * Scatter dy ([B, outH, outW, C]) into a zeroed [B, Hp, Wp, C] buffer, Hp = inH + (kH−1)·dH, with row oh placed at
 * (kH−1)·dH − top + oh·sH. A stride-1 "valid" correlation of that buffer with the spatially flipped filter is
 * exactly the input gradient (the transposed convolution), so it runs on the fast forward conv kernel.
 */
export function dilatedPaddedGradient(dy: Float32Array, g: ConvGeometry, C: number, out: Float32Array): [number, number] {
  const kHe = (g.kH - 1) * g.dilH + 1;
  const kWe = (g.kW - 1) * g.dilW + 1;
  const Hp = g.inH + kHe - 1;
  const Wp = g.inW + kWe - 1;
  out.fill(0);
  const offH = kHe - 1 - g.top;
  const offW = kWe - 1 - g.left;
  let i = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      const ph = offH + oh * g.strideH;
      for (let ow = 0; ow < g.outW; ow++) {
        const pw = offW + ow * g.strideW;
        const o = ((b * Hp + ph) * Wp + pw) * C;
        out.set(dy.subarray(i, i + C), o);
        i += C;
      }
    }
  }
  return [Hp, Wp];
}

/** True when the padded-dilated layout above fits (padding never exceeds the effective kernel extent). */
export function transposedConvFits(g: ConvGeometry): boolean {
  const kHe = (g.kH - 1) * g.dilH + 1;
  const kWe = (g.kW - 1) * g.dilW + 1;
  const lastH = kHe - 1 - g.top + (g.outH - 1) * g.strideH;
  const lastW = kWe - 1 - g.left + (g.outW - 1) * g.strideW;
  return g.top <= kHe - 1 && g.left <= kWe - 1 && lastH < g.inH + kHe - 1 && lastW < g.inW + kWe - 1;
}
