// Label noise for the sub-center ArcFace experiment (Deng et al., ECCV 2020 §4.1): a fraction of the training
// images is corrupted, either "close-set" (the image keeps its pixels but gets another training identity's label)
// or "open-set" (the image is replaced by one of an identity never seen in training, keeping the label).
import type { FaceDataset } from '@facet/data';
import { makeRng, shuffleInPlace } from '@facet/data';
import { DerivedFaceDataset, type DerivedItem } from './derived-dataset.js';

export type LabelNoiseKind = 'close-set' | 'open-set';

export interface LabelNoiseOptions {
  /** Fraction of images corrupted, in [0, 1). Exactly round(fraction · size) images are. */
  fraction: number;
  kind: LabelNoiseKind;
  seed?: number;
  /** Open-set noise: images of identities outside the training set (required for 'open-set'). */
  unseen?: FaceDataset;
}

export interface NoisyDataset {
  dataset: DerivedFaceDataset;
  /** 1 where item i is corrupted. */
  corrupted: Uint8Array;
}

export function withLabelNoise(base: FaceDataset, opts: LabelNoiseOptions): NoisyDataset {
  const { fraction, kind } = opts;
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`label noise fraction must be in [0, 1) (got ${fraction})`);
  if (kind !== 'close-set' && kind !== 'open-set') throw new Error(`label noise kind must be 'close-set' or 'open-set' (got ${String(kind)})`);
  if (kind === 'close-set' && base.numClasses < 2) throw new Error('close-set label noise needs at least 2 classes');
  const count = Math.round(fraction * base.size);
  const unseen = opts.unseen;
  if (kind === 'open-set' && count > 0) {
    if (!unseen) throw new Error("open-set label noise needs `unseen`: a dataset of identities that are not in the training set");
    if (unseen.size === 0) throw new Error('open-set label noise: the unseen set is empty');
  }
  const rng = makeRng(opts.seed ?? 0);
  const order = Array.from({ length: base.size }, (_, i) => i);
  shuffleInPlace(order, rng);
  const corrupted = new Uint8Array(base.size);
  for (let j = 0; j < count; j++) corrupted[order[j]!] = 1;
  const unseenOrder = unseen ? shuffleInPlace(Array.from({ length: unseen.size }, (_, i) => i), rng) : [];
  let nextUnseen = 0;
  const items: DerivedItem[] = [];
  for (let i = 0; i < base.size; i++) {
    const label = base.labels[i]!;
    if (!corrupted[i]) items.push({ source: 0, index: i, label });
    else if (kind === 'close-set') items.push({ source: 0, index: i, label: (label + 1 + rng.int(base.numClasses - 1)) % base.numClasses });
    // fewer unseen images than corrupted slots (small user datasets): cycle, so an unseen image may carry several
    // training labels, which is still open-set noise
    else items.push({ source: 1, index: unseenOrder[nextUnseen++ % unseenOrder.length]!, label });
  }
  const sources = unseen ? [base, unseen] : [base];
  const name = `${base.name}+${kind} noise ${(100 * fraction).toFixed(0)}%`;
  return { dataset: new DerivedFaceDataset(name, sources, items, base.classNames), corrupted };
}
