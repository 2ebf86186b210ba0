// Affine warp with bilinear interpolation and a constant 0 border: what insightface's `norm_crop` gets from
// cv2.warpAffine(img, M, (size, size), borderValue=0.0) (INTER_LINEAR, BORDER_CONSTANT). OpenCV samples the source at
// M⁻¹·(u, v) with pixel centres on integer coordinates; a neighbour outside the image counts as 0, so crops fade to
// black at the border. OpenCV quantises coordinates to 1/32 px and weights to 1/1024; this uses floats, so results
// may differ from OpenCV's by one grey level.

import type { RawImage } from '@facet/data';
import { invertAffine, type Affine } from './similarity.js';

/** Warp RGB `src` by `m` (source → output pixels) into a `width`×`height` image. */
export function warpAffine(src: RawImage, m: Affine, width: number, height = width): RawImage {
  const inv = invertAffine(m);
  const [[a, b, c], [d, e, f]] = inv;
  const out = new Uint8Array(width * height * 3);
  const W = src.width, H = src.height, s = src.data;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const fx = x - x0, fy = y - y0;
      // fully outside (with a one-pixel margin where neighbours still contribute): border value 0
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) continue;
      const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
      const inX0 = x0 >= 0, inX1 = x0 + 1 < W, inY0 = y0 >= 0, inY1 = y0 + 1 < H;
      const p00 = (y0 * W + x0) * 3, p10 = p00 + 3, p01 = p00 + W * 3, p11 = p01 + 3;
      const o = (v * width + u) * 3;
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        if (inY0 && inX0) acc += w00 * s[p00 + ch]!;
        if (inY0 && inX1) acc += w10 * s[p10 + ch]!;
        if (inY1 && inX0) acc += w01 * s[p01 + ch]!;
        if (inY1 && inX1) acc += w11 * s[p11 + ch]!;
        out[o + ch] = Math.round(acc);
      }
    }
  }
  return { data: out, width, height };
}
