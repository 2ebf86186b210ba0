// A FaceDataset built from items of other datasets with new labels: the base of every wrapper the experiments
// need (noisy labels, long tails, split identities). Items keep their source's describe() name, so a keep list
// written by `cleanRun` on the wrapper names the same items again.
import type { FaceDataset } from '@facet/data';

export interface DerivedItem {
  /** Which source dataset (index into `sources`). */
  source: number;
  /** Index within that source. */
  index: number;
  label: number;
}

export class DerivedFaceDataset implements FaceDataset {
  readonly size: number;
  readonly numClasses: number;
  readonly labels: Int32Array;
  readonly classNames: string[];
  readonly imageSize: number;

  constructor(
    readonly name: string,
    private readonly sources: FaceDataset[],
    private readonly items: DerivedItem[],
    classNames: string[],
  ) {
    if (sources.length === 0) throw new Error(`${name}: needs at least one source dataset`);
    this.imageSize = sources[0]!.imageSize;
    for (const s of sources) {
      if (s.imageSize !== this.imageSize) throw new Error(`${name}: source ${s.name} has imageSize ${s.imageSize}, expected ${this.imageSize}; open every source at the same size`);
    }
    this.size = items.length;
    this.numClasses = classNames.length;
    this.classNames = classNames;
    this.labels = new Int32Array(items.length);
    items.forEach((it, i) => {
      if (it.label < 0 || it.label >= classNames.length) throw new Error(`${name}: item ${i} has label ${it.label} outside [0, ${classNames.length})`);
      if (!sources[it.source] || it.index < 0 || it.index >= sources[it.source]!.size) throw new Error(`${name}: item ${i} points outside its source`);
      this.labels[i] = it.label;
    });
  }

  read(index: number): Promise<Uint8Array> {
    const it = this.item(index);
    return this.sources[it.source]!.read(it.index);
  }

  describe(index: number): string {
    const it = this.item(index);
    return this.sources[it.source]!.describe(it.index);
  }

  /** The source item behind `index`. */
  item(index: number): DerivedItem {
    const it = this.items[index];
    if (!it) throw new RangeError(`${this.name}: index ${index} outside [0, ${this.size})`);
    return it;
  }
}

/** Indices of each class of `ds`, in dataset order. */
export function indicesByClass(ds: FaceDataset): number[][] {
  const out: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.size; i++) out[ds.labels[i]!]!.push(i);
  return out;
}
