/** Number of rows of a flat [N, dim] array, checking that it divides. */
export function rowCount(data: ArrayLike<number>, dim: number, what: string): number {
  if (!(Number.isInteger(dim) && dim > 0)) throw new Error(`${what}: dim=${dim} is invalid; pass the embedding size (a positive integer).`);
  if (data.length % dim !== 0) {
    throw new Error(`${what}: ${data.length} values are not a whole number of ${dim}-d embeddings; check dim or the file.`);
  }
  return data.length / dim;
}

/** Throw if any value is NaN or infinite (a diverged model), naming where. */
export function assertFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new Error(`${what} has a non-finite value (${data[i]}) at index ${i}; the model may have diverged (NaN weights).`);
    }
  }
}

/**
 * L2-normalise each row (float64 accumulation). A zero row stays zero, as sklearn.preprocessing.normalize does
 * (insightface's verification.py normalises with it).
 */
export function l2NormalizeRows(data: ArrayLike<number>, dim: number): Float32Array {
  const n = rowCount(data, dim, 'l2NormalizeRows');
  const out = new Float32Array(data.length);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let c = 0; c < dim; c++) ss += data[r * dim + c]! ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let c = 0; c < dim; c++) out[r * dim + c] = data[r * dim + c]! * inv;
  }
  return out;
}

/** Copy the given rows of a flat [N, dim] array into a new [idx.length, dim] array. */
export function gatherRows(data: Float32Array, dim: number, idx: ArrayLike<number>): Float32Array {
  const n = rowCount(data, dim, 'gatherRows');
  const out = new Float32Array(idx.length * dim);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (!(Number.isInteger(r) && r >= 0 && r < n)) throw new Error(`row index ${r} is out of range [0, ${n}).`);
    out.set(data.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}
