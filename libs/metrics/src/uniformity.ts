import { tf } from '@facet/engine';
import { forEachGramBlock } from './blocked-gram.js';
import {
  checkPositive,
  checkPositiveInteger,
  gatherRows,
  normalizeRows,
  rowCount,
  sampleIndices,
  toEmbeddingMatrix,
  type EmbeddingInput,
  type EmbeddingMatrix,
} from './embedding-matrix.js';

export interface UniformityOptions {
  /** Temperature t of Wang & Isola's ℓ_uniform; default 2 (their default). */
  t?: number;
  /**
   * Estimate on a seeded random subset of this many rows when N is larger (the exact value costs N²·D);
   * default: all rows.
   */
  maxPoints?: number;
  /** Seed of that subset; default 0. */
  seed?: number;
  /** Rows per matmul tile (memory bound); default 1024. */
  blockRows?: number;
}

/**
 * Uniformity (Wang & Isola 2020): log mean_{i<j} exp(-t ||x̂_i - x̂_j||²) over L2-normalized rows.
 * More negative is more uniform on the sphere. Computed tile by tile (no N×N matrix): on unit rows
 * ||x̂_i - x̂_j||² = 2 - 2 x̂_iᵀx̂_j, each tile's exponentials are summed in float64.
 */
export function uniformity(x: EmbeddingInput, options: UniformityOptions = {}): number {
  const t = options.t ?? 2;
  checkPositive(t, 'uniformity t');
  let m = toEmbeddingMatrix(x, 'x');
  if (options.maxPoints !== undefined) {
    checkPositiveInteger(options.maxPoints, 'uniformity maxPoints');
    if (rowCount(m) > options.maxPoints) m = gatherRows(m, sampleIndices(rowCount(m), options.maxPoints, options.seed ?? 0));
  }
  return uniformityOfNormalized(normalizeRows(m, 'x'), t, options.blockRows);
}

export function uniformityOfNormalized(m: EmbeddingMatrix, t: number, blockRows?: number): number {
  const n = rowCount(m);
  if (n < 2) throw new Error(`uniformity needs at least 2 embeddings, got ${n}.`);
  // Sum over ordered pairs i ≠ j = 2 · sum over i < j. Off-diagonal tiles stand for themselves and their mirror.
  // Each tile is reduced to row sums of exp(-t·d²) on the engine (only `rows` floats cross to the host, where
  // they are accumulated in float64); diagonal tiles drop their i = j entries first.
  let sum = 0;
  forEachGramBlock(
    m,
    m,
    ({ rowStart, colStart, values }) => {
      let s = 0;
      for (let r = 0; r < values.length; r++) s += values[r]!;
      sum += rowStart === colStart ? s : 2 * s;
    },
    {
      symmetric: true,
      blockRows,
      reduce: (g, { rowStart, colStart, rows }) => {
        const d2 = tf.relu(tf.sub(2, tf.mul(g, 2)));
        let kernel = tf.exp(tf.mul(d2, -t));
        if (rowStart === colStart) kernel = tf.mul(kernel, tf.sub(1, tf.eye(rows)));
        return tf.sum(kernel, 1);
      },
    },
  );
  return Math.log(sum / (n * (n - 1)));
}
