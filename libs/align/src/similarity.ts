// The least-squares similarity transform between point sets (Umeyama 1991, "Least-squares estimation of
// transformation parameters between two point patterns", PAMI 13(4)), as insightface's `estimate_norm` gets it from
// skimage's SimilarityTransform.estimate. In 2-D a rotation+scale is one complex number s·e^{iθ}, and Umeyama's
// c·R = c·U·S·Vᵀ (with S fixing det R = +1) is the complex least-squares solution
//   s·e^{iθ} = Σ conj(x̃ᵢ)·ỹᵢ / Σ |x̃ᵢ|²   (x̃, ỹ: points minus their centroids),   t = ȳ − s·e^{iθ}·x̄,
// so no SVD is needed.

import type { Point } from './template.js';

/** A 2×3 affine matrix [[a, b, c], [d, e, f]]: (x, y) ↦ (a·x + b·y + c, d·x + e·y + f), OpenCV's warpAffine layout. */
export type Affine = [[number, number, number], [number, number, number]];

export interface SimilarityFit {
  /** Source → destination (for a face crop: image pixels → crop pixels, insightface's `M`). */
  matrix: Affine;
  scale: number;
  /** Rotation in radians (counter-clockwise in a y-up frame; clockwise on screen, where y points down). */
  rotation: number;
  /** Root mean square distance between the mapped source points and the destination points. */
  rms: number;
}

export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): SimilarityFit {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error(`estimateSimilarity: need two equally long lists of ≥ 2 points (got ${n} and ${dst.length})`);
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0]; sy += src[i]![1];
    dx += dst[i]![0]; dy += dst[i]![1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let re = 0, im = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const xr = src[i]![0] - sx, xi = src[i]![1] - sy;
    const yr = dst[i]![0] - dx, yi = dst[i]![1] - dy;
    re += xr * yr + xi * yi;
    im += xr * yi - xi * yr;
    norm += xr * xr + xi * xi;
  }
  if (!(norm > 0)) throw new Error('estimateSimilarity: the source points all coincide, no transform is defined');
  const a = re / norm;
  const b = im / norm;
  const matrix: Affine = [
    [a, -b, dx - (a * sx - b * sy)],
    [b, a, dy - (b * sx + a * sy)],
  ];
  let se = 0;
  for (let i = 0; i < n; i++) {
    const [u, v] = applyAffine(matrix, src[i]!);
    se += (u - dst[i]![0]) ** 2 + (v - dst[i]![1]) ** 2;
  }
  return { matrix, scale: Math.hypot(a, b), rotation: Math.atan2(b, a), rms: Math.sqrt(se / n) };
}

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0][0] * p[0] + m[0][1] * p[1] + m[0][2], m[1][0] * p[0] + m[1][1] * p[1] + m[1][2]];
}

export function invertAffine(m: Affine): Affine {
  const [[a, b, c], [d, e, f]] = m;
  const det = a * e - b * d;
  if (!(Math.abs(det) > 1e-12)) throw new Error('invertAffine: the matrix is singular');
  return [
    [e / det, -b / det, (b * f - c * e) / det],
    [-d / det, a / det, (c * d - a * f) / det],
  ];
}
