import { readFileSync } from 'node:fs';

export interface PairsIndex {
  /** Row of the first embedding of each pair. */
  a: Int32Array;
  /** Row of the second embedding of each pair. */
  b: Int32Array;
  issame: boolean[];
  /** Fold id of each pair when every pair carried a fourth element (the pairs list's own folds); else absent. */
  foldIds?: number[];
}

const FORMATS =
  'use [[i, j, same], …] (optionally [i, j, same, fold] on every pair), {"pairs": [[i, j, same], …]}, or {"issame": [same, …]} for rows (0,1), (2,3), … as in insightface .bin files';

/**
 * Parse a pairs index over the rows of an embeddings file. Three JSON forms:
 *   [[i, j, same], …] or {"pairs": [[i, j, same], …]}: explicit row pairs (same: true/false or 1/0), each with an
 *   optional integer fold id as a fourth element (all pairs or none), used instead of contiguous folds;
 *   {"issame": [same, …]}: insightface .bin order, pair k = rows (2k, 2k+1).
 */
export function parsePairsIndex(json: unknown, rows: number, source = 'pairs index'): PairsIndex {
  let list: unknown[];
  if (Array.isArray(json)) list = json;
  else if (json && typeof json === 'object' && Array.isArray((json as { pairs?: unknown }).pairs)) list = (json as { pairs: unknown[] }).pairs;
  else if (json && typeof json === 'object' && Array.isArray((json as { issame?: unknown }).issame)) {
    const same = (json as { issame: unknown[] }).issame;
    if (2 * same.length > rows) throw new Error(`${source}: ${same.length} issame pairs need ${2 * same.length} embedding rows, the embeddings have ${rows}.`);
    list = same.map((s, k) => [2 * k, 2 * k + 1, s]);
  } else throw new Error(`${source}: unrecognised JSON; ${FORMATS}.`);
  if (list.length === 0) throw new Error(`${source} has no pairs.`);
  const a = new Int32Array(list.length);
  const b = new Int32Array(list.length);
  const issame: boolean[] = [];
  const folds: number[] = [];
  list.forEach((p, k) => {
    const ok =
      Array.isArray(p) &&
      (p.length === 3 || (p.length === 4 && Number.isInteger(p[3]))) &&
      Number.isInteger(p[0]) &&
      Number.isInteger(p[1]) &&
      (typeof p[2] === 'boolean' || p[2] === 0 || p[2] === 1);
    if (!ok) throw new Error(`${source}: pair ${k} is ${JSON.stringify(p)}; ${FORMATS}.`);
    const [i, j, same] = p as [number, number, boolean | number];
    for (const r of [i, j]) {
      if (r < 0 || r >= rows) throw new Error(`${source}: pair ${k} refers to row ${r}, but the embeddings have ${rows} rows (0-based).`);
    }
    a[k] = i;
    b[k] = j;
    issame.push(Boolean(same));
    const hasFold = (p as unknown[]).length === 4;
    if (hasFold !== ((list[0] as unknown[]).length === 4)) {
      throw new Error(`${source}: pair ${k} ${hasFold ? 'has a fold id but pair 0 has none' : 'has no fold id but pair 0 has one'}; give the fold on every pair or on none.`);
    }
    if (hasFold) folds.push((p as number[])[3]!);
  });
  return { a, b, issame, ...(folds.length ? { foldIds: folds } : {}) };
}

/** Read and parse a pairs index JSON file (see `parsePairsIndex`). */
export function readPairsIndex(path: string, rows: number): PairsIndex {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read pairs index ${path}: ${(err as Error).message}`);
  }
  return parsePairsIndex(json, rows, path);
}
