import {
  checkPositive,
  checkSameShape,
  rowCount,
  rowSquaredNorms,
  toEmbeddingMatrix,
  type EmbeddingInput,
  type EmbeddingMatrix,
} from './embedding-matrix.js';

export interface AlignmentOptions {
  /**
   * Exponent α of Wang & Isola's ℓ_align = E ||f(x1) - f(x2)||^α. Default 2, which is exactly the paper's
   * L_align (Huang et al. Eq. 4, squared distance).
   */
  alpha?: number;
}

/**
 * ||f̂(x1_i) - f̂(x2_i)|| for every row, on L2-normalized rows, in float64. Computed from the raw rows
 * (||a/|a| - b/|b|||² = 2 - 2 aᵀb/(|a||b|) would lose digits for well-aligned pairs, so the difference is
 * formed explicitly).
 */
export function viewDistances(v1: EmbeddingInput, v2: EmbeddingInput): Float64Array {
  const a = toEmbeddingMatrix(v1, 'v1');
  const b = toEmbeddingMatrix(v2, 'v2');
  checkSameShape(a, b, 'v1', 'v2');
  return viewDistancesOf(a, b);
}

export function viewDistancesOf(a: EmbeddingMatrix, b: EmbeddingMatrix): Float64Array {
  const n = rowCount(a);
  const d = a.dim;
  const na = rowSquaredNorms(a);
  const nb = rowSquaredNorms(b);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const sa = Math.sqrt(na[i]!);
    const sb = Math.sqrt(nb[i]!);
    if (!(sa > 0) || !(sb > 0)) throw new Error(`${sa > 0 ? 'v2' : 'v1'}: row ${i} has zero norm, so it cannot be L2-normalized; drop that embedding.`);
    let s = 0;
    for (let j = 0; j < d; j++) {
      const diff = a.data[i * d + j]! / sa - b.data[i * d + j]! / sb;
      s += diff * diff;
    }
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Mean of distances^α (float64). */
export function meanPower(distances: ArrayLike<number>, alpha: number): number {
  let s = 0;
  for (let i = 0; i < distances.length; i++) s += alpha === 2 ? distances[i]! * distances[i]! : Math.pow(distances[i]!, alpha);
  return s / distances.length;
}

/**
 * Alignment of two augmented views: mean_i ||f̂(x1_i) - f̂(x2_i)||^α on L2-normalized rows.
 * α = 2 (default) is L_align of Huang et al. (Eq. 4) and Wang & Isola's default; α = 1 is the plain mean distance.
 */
export function alignment(v1: EmbeddingInput, v2: EmbeddingInput, options: AlignmentOptions = {}): number {
  const alpha = options.alpha ?? 2;
  checkPositive(alpha, 'alignment alpha');
  return meanPower(viewDistances(v1, v2), alpha);
}

export interface REpsilonOptions {
  /** ε of the ε-aligned set S_ε; distances are between L2-normalized views, so ε ∈ (0, 2]. */
  epsilon: number;
}

/**
 * R_ε = P[ sup_{x1,x2 ∈ A(x)} ||f(x1) - f(x2)|| > ε ] (Huang et al. §3, the mass that is not ε-aligned),
 * estimated with the one sampled pair of views per image (the sup over A(x) is approximated by that pair, so
 * this is a lower estimate of the population R_ε).
 */
export function rEpsilon(v1: EmbeddingInput, v2: EmbeddingInput, options: REpsilonOptions): number {
  checkPositive(options?.epsilon, 'rEpsilon epsilon');
  return fractionAbove(viewDistances(v1, v2), options.epsilon);
}

export function fractionAbove(distances: ArrayLike<number>, epsilon: number): number {
  let c = 0;
  for (let i = 0; i < distances.length; i++) if (distances[i]! > epsilon) c++;
  return c / distances.length;
}
