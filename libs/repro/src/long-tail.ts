// A long-tailed identity distribution (PFC paper, Table 6 setting): class k keeps about
// maxImages · (k + 1)^(−exponent) of its images (at least minImages), a Zipf-like tail as in web-collected sets.
import type { FaceDataset } from '@facet/data';
import { DerivedFaceDataset, indicesByClass, type DerivedItem } from './derived-dataset.js';

export interface LongTailOptions {
  /** Zipf exponent of the per-class counts; default 1. */
  exponent?: number;
  /** Images kept for the smallest classes; default 2. */
  minImages?: number;
}

/** Per-class image counts of the long-tailed subset (class k = k-th class of `base`). */
export function longTailCounts(available: number[], opts: LongTailOptions = {}): number[] {
  const exponent = opts.exponent ?? 1;
  const minImages = opts.minImages ?? 2;
  if (!(exponent >= 0)) throw new Error(`long tail exponent must be ≥ 0 (got ${exponent})`);
  if (!Number.isInteger(minImages) || minImages < 1) throw new Error(`long tail minImages must be an integer ≥ 1 (got ${minImages})`);
  const max = Math.max(...available);
  return available.map((n, k) => Math.min(n, Math.max(minImages, Math.round(max * (k + 1) ** -exponent))));
}

export function longTailed(base: FaceDataset, opts: LongTailOptions = {}): DerivedFaceDataset {
  const byClass = indicesByClass(base);
  const counts = longTailCounts(byClass.map((c) => c.length), opts);
  const items: DerivedItem[] = [];
  byClass.forEach((idx, k) => {
    for (const i of idx.slice(0, counts[k])) items.push({ source: 0, index: i, label: k });
  });
  return new DerivedFaceDataset(`${base.name}+long-tail`, [base], items, base.classNames);
}
