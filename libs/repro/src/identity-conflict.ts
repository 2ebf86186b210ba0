// Inter-class conflict (PFC paper §3.3): the same person appears under two identity labels, as when web data is
// merged from sources that name people differently. A fraction of the classes is split: half of each split
// class's images move to a new class, so the head holds two centres for one person and pushes them apart.
import type { FaceDataset } from '@facet/data';
import { DerivedFaceDataset, indicesByClass, type DerivedItem } from './derived-dataset.js';

export interface ConflictDataset {
  dataset: DerivedFaceDataset;
  /** Original class → the new label its second half received (only for split classes). */
  splits: Map<number, number>;
}

export function withIdentityConflict(base: FaceDataset, fraction: number): ConflictDataset {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`identity conflict fraction must be in (0, 1] (got ${fraction})`);
  const byClass = indicesByClass(base);
  const splitCount = Math.round(fraction * base.numClasses);
  const classNames = [...base.classNames];
  const splits = new Map<number, number>();
  const items: DerivedItem[] = [];
  byClass.forEach((idx, k) => {
    const split = k < splitCount && idx.length >= 2;
    let newLabel = -1;
    if (split) {
      newLabel = classNames.length;
      classNames.push(`${base.classNames[k]}#conflict`);
      splits.set(k, newLabel);
    }
    idx.forEach((i, j) => items.push({ source: 0, index: i, label: split && j >= idx.length / 2 ? newLabel : k }));
  });
  return { dataset: new DerivedFaceDataset(`${base.name}+conflict`, [base], items, classNames), splits };
}
