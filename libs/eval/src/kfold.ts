/**
 * sklearn `KFold(n_splits=k, shuffle=False)` as insightface's verification uses it: contiguous test folds over
 * the pair index, the first n % k folds one sample larger. Returns each fold's test range [start, end).
 */
export function kFoldRanges(n: number, k: number): Array<[number, number]> {
  if (!(Number.isInteger(k) && k >= 2)) throw new Error(`folds=${k} is invalid; use an integer ≥ 2 (insightface uses 10).`);
  if (!(Number.isInteger(n) && n >= k)) throw new Error(`${n} pairs cannot be split into ${k} folds; need at least ${k} pairs.`);
  const base = Math.floor(n / k);
  const extra = n % k;
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    ranges.push([start, start + size]);
    start += size;
  }
  return ranges;
}

/** Where the verification folds came from: a fold column of the pairs list, or sklearn's contiguous split. */
export type FoldSource = 'file' | 'contiguous';

/** Pairs grouped into test folds: `foldOf[i]` is pair i's fold index, `ids[f]` the fold's id in the file. */
export interface FoldAssignment {
  source: FoldSource;
  foldOf: Int32Array;
  sizes: number[];
  /** Fold ids as the pairs list numbers them, ascending (file folds only). */
  ids?: number[];
  /** Test range [start, end) of each fold (contiguous folds only). */
  ranges?: Array<[number, number]>;
}

/**
 * Test folds of n pairs: the fold ids given per pair (a pairs list's fold column; folds ordered by ascending id,
 * whatever the ids are), else `k` contiguous folds as insightface (`kFoldRanges`).
 */
export function assignFolds(n: number, k: number, foldIds?: ArrayLike<number>): FoldAssignment {
  if (!foldIds) {
    const ranges = kFoldRanges(n, k);
    const foldOf = new Int32Array(n);
    ranges.forEach(([s, e], f) => foldOf.fill(f, s, e));
    return { source: 'contiguous', foldOf, sizes: ranges.map(([s, e]) => e - s), ranges };
  }
  if (foldIds.length !== n) throw new Error(`${n} pairs but ${foldIds.length} fold ids; pass one fold id per pair.`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(foldIds[i])) throw new Error(`fold id of pair ${i} is ${String(foldIds[i])}; fold ids must be integers.`);
  }
  const ids = [...new Set(Array.from(foldIds))].sort((a, b) => a - b);
  if (ids.length < 2) throw new Error(`all ${n} pairs are in fold ${ids[0]}; the fold column needs at least 2 folds (a threshold is chosen on the other folds).`);
  const index = new Map(ids.map((id, f) => [id, f]));
  const foldOf = Int32Array.from(foldIds, (id) => index.get(id)!);
  const sizes = new Array<number>(ids.length).fill(0);
  for (const f of foldOf) sizes[f]!++;
  return { source: 'file', foldOf, sizes, ids };
}
