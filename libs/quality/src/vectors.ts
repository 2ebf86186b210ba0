// Host-side float64 helpers shared by the quality measures: row checks, unit rows, dot products.
// Quality scores are compared across measures and pairs, so they are computed in float64 like the ROC in @facet/eval.

/** A row-major matrix or a vector of numbers. */
export type NumericArray = Float32Array | Float64Array | ArrayLike<number>;

/** Number of `dim`-wide rows in `data`; throws naming `what` when the length does not divide or a value is not finite. */
export function rowCount(what: string, data: NumericArray, dim: number): number {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${what}: the embedding size must be a positive integer (got ${dim}).`);
  if (data == null || typeof data.length !== 'number') throw new Error(`${what}: expected a Float32Array or number[] of row-major values.`);
  if (data.length % dim !== 0) {
    throw new Error(`${what}: ${data.length} values are not a whole number of ${dim}-d rows; pass [N, ${dim}] row-major values.`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new Error(`${what}: value ${i} (row ${Math.floor(i / dim)}) is ${data[i]}; embeddings must be finite.`);
  }
  return data.length / dim;
}

/** L2 norm of row r. */
export function rowNorm(data: NumericArray, dim: number, r: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const v = data[r * dim + k]!;
    s += v * v;
  }
  return Math.sqrt(s);
}

/** Each row divided by its L2 norm, in float64 (a zero row stays zero, as F.normalize with eps). */
export function unitRows(data: NumericArray, dim: number): Float64Array {
  const n = data.length / dim;
  const out = new Float64Array(data.length);
  for (let r = 0; r < n; r++) {
    const norm = rowNorm(data, dim, r);
    const inv = norm > 1e-12 ? 1 / norm : 0;
    for (let k = 0; k < dim; k++) out[r * dim + k] = data[r * dim + k]! * inv;
  }
  return out;
}

/** Dot product of row a of `x` with row b of `y` (both `dim` wide). */
export function rowDot(x: NumericArray, a: number, y: NumericArray, b: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += x[a * dim + k]! * y[b * dim + k]!;
  return s;
}
