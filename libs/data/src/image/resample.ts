// Separable image resampling on RGB uint8 with antialiasing (the filter is widened by the scale factor when
// shrinking, as in PIL's resize), so a 112→8 px down-scale averages instead of aliasing.
//   'box'      area average (exact block mean for integer factors)
//   'triangle' bilinear; for up-scaling it equals half-pixel-centre bilinear interpolation (align_corners=false)

import type { RawImage } from './raw-image.js';

export type ResampleFilter = 'box' | 'triangle';

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
}

function axisWeights(srcStart: number, srcLen: number, dstLen: number, filter: ResampleFilter): AxisWeights {
  const scale = srcLen / dstLen;
  const widen = Math.max(scale, 1);
  const support = (filter === 'box' ? 0.5 : 1) * widen;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(dstLen);
  const count = new Int32Array(dstLen);
  const weights = new Float64Array(dstLen * stride);
  for (let i = 0; i < dstLen; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(srcLen, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi; j++) {
      const x = (j + 0.5 - centre) / widen;
      const w = filter === 'box' ? (x >= -0.5 && x < 0.5 ? 1 : 0) : Math.max(0, 1 - Math.abs(x));
      weights[i * stride + n] = w;
      sum += w;
      n++;
    }
    if (sum === 0) {
      // a box that fell between samples (extreme up-scaling): nearest neighbour
      const j = Math.min(srcLen - 1, Math.max(0, Math.floor(centre)));
      weights[i * stride] = 1;
      start[i] = srcStart + j;
      count[i] = 1;
      continue;
    }
    for (let k = 0; k < n; k++) weights[i * stride + k] = weights[i * stride + k]! / sum;
    start[i] = srcStart + lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Resize (a crop of) an RGB image to dstW×dstH. `crop` is an integer box inside the source (default: all of it).
 * Returns a new RGB uint8 buffer.
 */
export function resizeRgb(
  src: Uint8Array,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
  filter: ResampleFilter = 'triangle',
  crop?: CropBox,
): Uint8Array {
  const c = crop ?? { x: 0, y: 0, width: srcW, height: srcH };
  if (c.x < 0 || c.y < 0 || c.width < 1 || c.height < 1 || c.x + c.width > srcW || c.y + c.height > srcH) {
    throw new Error(`resizeRgb: crop ${JSON.stringify(c)} is outside the ${srcW}×${srcH} image`);
  }
  if (!crop && dstW === srcW && dstH === srcH) return src.slice();
  const wx = axisWeights(c.x, c.width, dstW, filter);
  const wy = axisWeights(c.y, c.height, dstH, filter);
  // horizontal pass over the rows the vertical pass will need
  const rows = c.height;
  const tmp = new Float64Array(rows * dstW * 3);
  for (let r = 0; r < rows; r++) {
    const srcRow = (c.y + r) * srcW * 3;
    for (let x = 0; x < dstW; x++) {
      let a = 0;
      let g = 0;
      let bl = 0;
      const s0 = wx.start[x]!;
      const n = wx.count[x]!;
      const wo = x * wx.stride;
      for (let k = 0; k < n; k++) {
        const w = wx.weights[wo + k]!;
        const p = srcRow + (s0 + k) * 3;
        a += w * src[p]!;
        g += w * src[p + 1]!;
        bl += w * src[p + 2]!;
      }
      const t = (r * dstW + x) * 3;
      tmp[t] = a;
      tmp[t + 1] = g;
      tmp[t + 2] = bl;
    }
  }
  const out = new Uint8Array(dstW * dstH * 3);
  for (let y = 0; y < dstH; y++) {
    const s0 = wy.start[y]! - c.y;
    const n = wy.count[y]!;
    const wo = y * wy.stride;
    for (let x = 0; x < dstW; x++) {
      let a = 0;
      let g = 0;
      let bl = 0;
      for (let k = 0; k < n; k++) {
        const w = wy.weights[wo + k]!;
        const t = ((s0 + k) * dstW + x) * 3;
        a += w * tmp[t]!;
        g += w * tmp[t + 1]!;
        bl += w * tmp[t + 2]!;
      }
      const o = (y * dstW + x) * 3;
      out[o] = clampByte(a);
      out[o + 1] = clampByte(g);
      out[o + 2] = clampByte(bl);
    }
  }
  return out;
}

export const clampByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * Bring any decoded image to a size×size square: scale the short side to `size` and take the centre crop
 * (torchvision Resize(size)+CenterCrop(size)); keeps the aspect ratio of e.g. 112×96 SphereFace-style crops.
 */
export function fitToSquare(img: RawImage, size: number): Uint8Array {
  if (img.width === size && img.height === size) return img.data;
  const short = Math.min(img.width, img.height);
  // crop in source pixels covering the centre square that maps to size×size
  const side = short;
  const x = Math.floor((img.width - side) / 2);
  const y = Math.floor((img.height - side) / 2);
  return resizeRgb(img.data, img.width, img.height, size, size, 'triangle', { x, y, width: side, height: side });
}
