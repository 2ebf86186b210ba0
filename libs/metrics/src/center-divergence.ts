import { forEachGramBlock } from './blocked-gram.js';
import { classCenters, type ClassCenters, type ViewsInput } from './class-centers.js';
import { checkPositiveInteger, type LabelInput } from './embedding-matrix.js';

export interface CenterDivergenceOptions {
  /** Centres per matmul tile; default 1024. */
  blockRows?: number;
  /** Bins of the pairwise centre-cosine histogram over [-1, 1]; default 40. */
  histogramBins?: number;
}

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
}

/**
 * How far apart the class centres are (Huang et al. §3, "divergence of class centres"). All pairs k ≠ l.
 * The bound (Theorem 1, Eq. 2) uses the raw inner product µ_kᵀµ_l; the cosine and L2 forms are for reading.
 */
export interface CenterDivergence {
  classes: number;
  /** min_{k≠l} ||µ_k - µ_l||. */
  minL2: number;
  /** 1 - maxPairwiseCosine: the smallest cosine distance between (normalized) centres. */
  minCosineDistance: number;
  /** Mean over pairs k<l of cos(µ_k, µ_l). */
  meanPairwiseCosine: number;
  /** max_{k≠l} cos(µ_k, µ_l). */
  maxPairwiseCosine: number;
  /** max_{k≠l} µ_kᵀµ_l: the quantity Eq. 2 requires to be below r²(1 - ρ_max - √(2ρ_max) - Δ_µ/2). */
  maxInnerProduct: number;
  /** min_k ||µ_k||². */
  minCenterSquaredNorm: number;
  /** Δ_µ = 1 - min_k ||µ_k||² (r = 1). */
  deltaMu: number;
  /** Class ids (original labels) of the pairs that attain minL2, maxPairwiseCosine and maxInnerProduct. */
  closestPair: [number, number];
  mostSimilarPair: [number, number];
  maxInnerProductPair: [number, number];
  /** Distribution of the K(K-1)/2 pairwise centre cosines. */
  cosineHistogram: Histogram;
}

/** Divergence of the class centres of x (one matrix or [v1, v2]); see `divergenceOfCenters`. */
export function centerDivergence(x: ViewsInput, labels: LabelInput, options: CenterDivergenceOptions = {}): CenterDivergence {
  return divergenceOfCenters(classCenters(x, labels), options);
}

function dot64(c: Float64Array, dim: number, k: number, l: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += c[k * dim + j]! * c[l * dim + j]!;
  return s;
}

function dist64(c: Float64Array, dim: number, k: number, l: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += (c[k * dim + j]! - c[l * dim + j]!) ** 2;
  return Math.sqrt(s);
}

/**
 * Pairwise statistics of K centres, tile by tile (K may be large: one centre per identity). Tiles give float32
 * inner products; the extreme pairs they find are then recomputed exactly in float64, so minL2 keeps its
 * digits even when two centres nearly coincide.
 */
export function divergenceOfCenters(c: ClassCenters, options: CenterDivergenceOptions = {}): CenterDivergence {
  const bins = options.histogramBins ?? 40;
  checkPositiveInteger(bins, 'histogramBins');
  const k = c.classIds.length;
  if (k < 2) throw new Error(`centre divergence needs at least 2 classes, got ${k}; check the labels.`);
  const dim = c.dim;
  const norms = Float64Array.from(c.squaredNorms, Math.sqrt);
  const counts = new Array<number>(bins).fill(0);
  const best = { d2: Infinity, cos: -Infinity, ip: -Infinity };
  const pairs = { d2: [0, 1], cos: [0, 1], ip: [0, 1] };
  let cosSum = 0;
  const cosine = (g: number, a: number, b: number) => (norms[a]! > 0 && norms[b]! > 0 ? g / (norms[a]! * norms[b]!) : 0);
  forEachGramBlock(
    { data: Float32Array.from(c.centers), dim },
    { data: Float32Array.from(c.centers), dim },
    ({ rowStart, colStart, rows, cols, values }) => {
      for (let r = 0; r < rows; r++) {
        const a = rowStart + r;
        for (let col = rowStart === colStart ? r + 1 : 0; col < cols; col++) {
          const b = colStart + col;
          const g = values[r * cols + col]!;
          const cos = cosine(g, a, b);
          const d2 = c.squaredNorms[a]! + c.squaredNorms[b]! - 2 * g;
          if (d2 < best.d2) (best.d2 = d2), (pairs.d2 = [a, b]);
          if (cos > best.cos) (best.cos = cos), (pairs.cos = [a, b]);
          if (g > best.ip) (best.ip = g), (pairs.ip = [a, b]);
          cosSum += cos;
          counts[Math.min(bins - 1, Math.max(0, Math.floor(((cos + 1) / 2) * bins)))]!++;
        }
      }
    },
    { symmetric: true, blockRows: options.blockRows },
  );
  const [ca, cb] = pairs.cos as [number, number];
  const [ia, ib] = pairs.ip as [number, number];
  const [da, db] = pairs.d2 as [number, number];
  const maxPairwiseCosine = Math.min(1, cosine(dot64(c.centers, dim, ca, cb), ca, cb));
  const minCenterSquaredNorm = c.squaredNorms.reduce((m, v) => Math.min(m, v), Infinity);
  const id = (p: number[]) => [c.classIds[p[0]!]!, c.classIds[p[1]!]!] as [number, number];
  return {
    classes: k,
    minL2: dist64(c.centers, dim, da, db),
    minCosineDistance: 1 - maxPairwiseCosine,
    meanPairwiseCosine: cosSum / ((k * (k - 1)) / 2),
    maxPairwiseCosine,
    maxInnerProduct: dot64(c.centers, dim, ia, ib),
    minCenterSquaredNorm,
    deltaMu: 1 - minCenterSquaredNorm,
    closestPair: id(pairs.d2),
    mostSimilarPair: id(pairs.cos),
    maxInnerProductPair: id(pairs.ip),
    cosineHistogram: { edges: Array.from({ length: bins + 1 }, (_, i) => -1 + (2 * i) / bins), counts },
  };
}
