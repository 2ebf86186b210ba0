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
