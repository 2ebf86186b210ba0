import { tf } from '@facet/engine';
import { checkPositiveInteger, rowCount, type EmbeddingMatrix } from './embedding-matrix.js';

/**
 * One tile of the inner-product matrix A·Bᵀ: `values[r*cols + c] = a[rowStart+r] · b[colStart+c]` (or the
 * data of `reduce(tile)` when a reduction is given).
 */
export interface GramBlock {
  rowStart: number;
  colStart: number;
  rows: number;
  cols: number;
  values: Float32Array;
}

export interface GramBlockOptions {
  /** Rows (and columns) per tile. Memory is O(blockRows·(dim + blockRows)); default 1024. */
  blockRows?: number;
  /** A and B are the same matrix: visit only tiles with colStart >= rowStart (the upper block triangle). */
  symmetric?: boolean;
  /**
   * Reduce each tile on the engine before it is read back (e.g. to row sums), so only the reduction crosses to
   * the host; `values` then holds the reduced tensor's data. Runs inside tf.tidy.
   */
  reduce?: (tile: tf.Tensor2D, at: { rowStart: number; colStart: number; rows: number; cols: number }) => tf.Tensor;
}

export const DEFAULT_BLOCK_ROWS = 1024;

/**
 * Visit A·Bᵀ tile by tile without ever holding the N×M matrix: each tile is one engine matmul (fast on wasm),
 * read back to the host so callers can reduce it in float64. This is what keeps 100k × 512 bounded: peak
 * memory is two row blocks plus one blockRows² tile.
 */
export function forEachGramBlock(
  a: EmbeddingMatrix,
  b: EmbeddingMatrix,
  visit: (block: GramBlock) => void,
  options: GramBlockOptions = {},
): void {
  const blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
  checkPositiveInteger(blockRows, 'blockRows');
  if (a.dim !== b.dim) throw new Error(`inner products need equal dimensions, got ${a.dim} and ${b.dim}.`);
  const n = rowCount(a);
  const m = rowCount(b);
  const dim = a.dim;
  for (let r0 = 0; r0 < n; r0 += blockRows) {
    const rows = Math.min(blockRows, n - r0);
    const aBlock = tf.tensor2d(a.data.subarray(r0 * dim, (r0 + rows) * dim), [rows, dim]);
    try {
      for (let c0 = options.symmetric ? r0 : 0; c0 < m; c0 += blockRows) {
        const cols = Math.min(blockRows, m - c0);
        // Never return dataSync() from inside tidy: tidy would walk every element of the array.
        const tile = tf.tidy(() => {
          const bBlock = tf.tensor2d(b.data.subarray(c0 * dim, (c0 + cols) * dim), [cols, dim]);
          const g = tf.matMul(aBlock, bBlock, false, true) as tf.Tensor2D;
          return options.reduce ? options.reduce(g, { rowStart: r0, colStart: c0, rows, cols }) : g;
        });
        const values = tile.dataSync() as Float32Array;
        tile.dispose();
        visit({ rowStart: r0, colStart: c0, rows, cols, values });
      }
    } finally {
      aBlock.dispose();
    }
  }
}
