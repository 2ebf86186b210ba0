import { mulberry32, tf } from '@facet/engine';

/**
 * A host-side matrix of N embeddings, row-major: row i is `data[i*dim .. (i+1)*dim)`. Metrics take these
 * rather than tensors so that 100k × 512 never has to live on the engine (the wasm heap is capped at 4 GiB).
 */
export interface EmbeddingMatrix {
  data: Float32Array;
  dim: number;
}

/** What metric functions accept: a host matrix, a rank-2 tensor (read back once), or an array of rows. */
export type EmbeddingInput = EmbeddingMatrix | tf.Tensor2D | ArrayLike<number>[];

/** Class labels, one per row: non-negative integers (any ids; they need not be contiguous). */
export type LabelInput = ArrayLike<number>;

export function rowCount(m: EmbeddingMatrix): number {
  return m.data.length / m.dim;
}

/** Validate and convert an input to a host matrix. `name` is the option/argument named in errors. */
export function toEmbeddingMatrix(x: EmbeddingInput, name: string): EmbeddingMatrix {
  let m: EmbeddingMatrix;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${name}: expected a rank-2 tensor [N, D], got shape [${x.shape.join(', ')}].`);
    m = { data: Float32Array.from(x.dataSync()), dim: x.shape[1]! };
  } else if (Array.isArray(x)) {
    const rows = x as ArrayLike<number>[];
    if (rows.length === 0) throw new Error(`${name}: no rows given; pass at least one embedding.`);
    const dim = rows[0]!.length;
    const data = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      if (r.length !== dim) throw new Error(`${name}: row ${i} has ${r.length} values but row 0 has ${dim}; all rows need the same dimension.`);
      for (let j = 0; j < dim; j++) data[i * dim + j] = r[j]!;
    });
    m = { data, dim };
  } else if (x && typeof x === 'object' && 'data' in x && 'dim' in x) {
    m = x as EmbeddingMatrix;
    if (!(m.data instanceof Float32Array)) throw new Error(`${name}.data must be a Float32Array (row-major N×dim).`);
  } else {
    throw new Error(`${name}: expected { data: Float32Array, dim }, a Tensor2D or an array of rows.`);
  }
  if (!Number.isInteger(m.dim) || m.dim < 1) throw new Error(`${name}.dim must be a positive integer, got ${m.dim}.`);
  if (m.data.length === 0) throw new Error(`${name}: no rows given; pass at least one embedding.`);
  if (m.data.length % m.dim !== 0) {
    throw new Error(`${name}: data length ${m.data.length} is not a multiple of dim ${m.dim}; check the dimension.`);
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) {
      throw new Error(`${name}: row ${Math.floor(i / m.dim)} holds a non-finite value (${m.data[i]}); fix or drop that embedding.`);
    }
  }
  return m;
}

/** Squared L2 norm of every row, accumulated in float64. */
export function rowSquaredNorms(m: EmbeddingMatrix): Float64Array {
  const n = rowCount(m);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * m.dim;
    for (let j = 0; j < m.dim; j++) s += m.data[o + j]! * m.data[o + j]!;
    out[i] = s;
  }
  return out;
}

/**
 * A copy with every row scaled to unit L2 norm (norms in float64). The paper's metrics are defined for
 * ||f|| = r = 1; a zero row has no direction, so it is an error rather than a silent NaN.
 */
export function normalizeRows(m: EmbeddingMatrix, name: string): EmbeddingMatrix {
  const n = rowCount(m);
  const norms = rowSquaredNorms(m);
  const data = new Float32Array(m.data.length);
  for (let i = 0; i < n; i++) {
    const norm = Math.sqrt(norms[i]!);
    if (!(norm > 0)) throw new Error(`${name}: row ${i} has zero norm, so it cannot be L2-normalized; drop that embedding.`);
    const o = i * m.dim;
    for (let j = 0; j < m.dim; j++) data[o + j] = m.data[o + j]! / norm;
  }
  return { data, dim: m.dim };
}

/** Two views must describe the same rows. */
export function checkSameShape(a: EmbeddingMatrix, b: EmbeddingMatrix, nameA: string, nameB: string): void {
  if (a.dim !== b.dim) throw new Error(`${nameA} has dim ${a.dim} but ${nameB} has dim ${b.dim}; the two views must come from the same model.`);
  if (a.data.length !== b.data.length) {
    throw new Error(`${nameA} has ${rowCount(a)} rows but ${nameB} has ${rowCount(b)}; row i of each must be a view of the same image.`);
  }
}

/** Labels mapped to contiguous class indices 0..K-1 (in ascending order of the original ids). */
export interface ClassIndex {
  /** Class index of every row. */
  index: Int32Array;
  /** Original label of each class index. */
  classIds: number[];
  /** Rows per class. */
  counts: number[];
}

export function indexLabels(labels: LabelInput, n: number, name = 'labels'): ClassIndex {
  if (!labels || typeof labels.length !== 'number') throw new Error(`${name}: expected an array of integer class labels.`);
  if (labels.length !== n) {
    throw new Error(`${name} has ${labels.length} entries but there are ${n} embeddings; give one label per embedding row.`);
  }
  const ids = new Set<number>();
  for (let i = 0; i < n; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name}[${i}] = ${v} is not a non-negative integer class label.`);
    ids.add(v);
  }
  const classIds = [...ids].sort((a, b) => a - b);
  const lookup = new Map(classIds.map((id, k) => [id, k]));
  const index = new Int32Array(n);
  const counts = new Array<number>(classIds.length).fill(0);
  for (let i = 0; i < n; i++) {
    const k = lookup.get(labels[i]!)!;
    index[i] = k;
    counts[k]!++;
  }
  return { index, classIds, counts };
}

/** `k` distinct indices from 0..n-1 (partial Fisher–Yates), returned sorted; all of them when k >= n. */
export function sampleIndices(n: number, k: number, seed: number): Int32Array {
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, k).sort();
}

/** Gather rows into a new contiguous matrix. */
export function gatherRows(m: EmbeddingMatrix, rows: ArrayLike<number>): EmbeddingMatrix {
  const data = new Float32Array(rows.length * m.dim);
  for (let i = 0; i < rows.length; i++) data.set(m.data.subarray(rows[i]! * m.dim, (rows[i]! + 1) * m.dim), i * m.dim);
  return { data, dim: m.dim };
}

export function checkPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}.`);
}

export function checkPositive(value: number, name: string): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new Error(`${name} must be a finite number > 0, got ${value}.`);
}
