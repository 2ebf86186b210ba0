import { describe, expect, it } from 'vitest';
import { SyntheticFaceDataset } from '@facet/data';
import { DerivedFaceDataset, indicesByClass, longTailCounts, longTailed, splitByIdentity, withIdentityConflict, withLabelNoise } from '../src/index.js';

const base = new SyntheticFaceDataset({ identities: 10, imagesPerIdentity: 6, imageSize: 16 });
const unseen = new SyntheticFaceDataset({ identities: 10, imagesPerIdentity: 6, imageSize: 16, identityOffset: 50_000 });

describe('withLabelNoise', () => {
  it('close-set: exactly round(f·N) labels changed, pixels kept, every changed label differs', async () => {
    const { dataset, corrupted } = withLabelNoise(base, { fraction: 0.2, kind: 'close-set', seed: 3 });
    expect(corrupted.reduce((a, b) => a + b, 0)).toBe(12);
    let changed = 0;
    for (let i = 0; i < base.size; i++) {
      if (dataset.labels[i] !== base.labels[i]) changed++;
      expect(corrupted[i] === 1).toBe(dataset.labels[i] !== base.labels[i]);
      expect(dataset.describe(i)).toBe(base.describe(i));
    }
    expect(changed).toBe(12);
    expect(await dataset.read(5)).toEqual(await base.read(5));
  });

  it('open-set: corrupted images come from unseen identities, labels kept, no image reused', () => {
    const { dataset, corrupted } = withLabelNoise(base, { fraction: 0.4, kind: 'open-set', seed: 1, unseen });
    const trainNames = new Set(Array.from({ length: base.size }, (_, i) => base.describe(i)));
    const used = new Set<string>();
    let n = 0;
    for (let i = 0; i < dataset.size; i++) {
      expect(dataset.labels[i]).toBe(base.labels[i]);
      const name = dataset.describe(i);
      if (corrupted[i]) {
        n++;
        expect(trainNames.has(name)).toBe(false);
        expect(Number(name.match(/id_(\d+)/)![1])).toBeGreaterThanOrEqual(50_000);
      } else expect(name).toBe(base.describe(i));
      expect(used.has(name)).toBe(false);
      used.add(name);
    }
    expect(n).toBe(24);
  });

  it('open-set with fewer unseen images than corrupted slots: every unseen image is used before any repeats', () => {
    const small = new SyntheticFaceDataset({ identities: 2, imagesPerIdentity: 5, imageSize: 16, identityOffset: 50_000 });
    const { dataset, corrupted } = withLabelNoise(base, { fraction: 0.4, kind: 'open-set', seed: 2, unseen: small });
    const uses = new Map<string, number>();
    for (let i = 0; i < dataset.size; i++) if (corrupted[i]) uses.set(dataset.describe(i), (uses.get(dataset.describe(i)) ?? 0) + 1);
    // 24 slots over 10 unseen images: each used 2 or 3 times
    expect(uses.size).toBe(10);
    expect([...uses.values()].every((u) => u === 2 || u === 3)).toBe(true);
    expect([...uses.keys()].every((k) => Number(k.match(/id_(\d+)/)![1]) >= 50_000)).toBe(true);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => withLabelNoise(base, { fraction: 1.2, kind: 'close-set' })).toThrow(/fraction must be in \[0, 1\)/);
    expect(() => withLabelNoise(base, { fraction: 0.2, kind: 'open-set' })).toThrow(/needs `unseen`/);
  });
});

describe('longTailed', () => {
  it('keeps max·(k+1)^-a images per class, at least minImages', () => {
    expect(longTailCounts([6, 6, 6, 6, 6, 6], { exponent: 1, minImages: 2 })).toEqual([6, 3, 2, 2, 2, 2]);
    const ds = longTailed(base, { exponent: 1, minImages: 2 });
    const counts = indicesByClass(ds).map((c) => c.length);
    expect(counts).toEqual(longTailCounts(Array(10).fill(6), { exponent: 1, minImages: 2 }));
    expect(ds.size).toBe(counts.reduce((a, b) => a + b, 0));
    expect(ds.numClasses).toBe(10);
  });
});

describe('withIdentityConflict', () => {
  it('splits the first fraction of classes in two halves under a new label', () => {
    const { dataset, splits } = withIdentityConflict(base, 0.5);
    expect(splits.size).toBe(5);
    expect(dataset.numClasses).toBe(15);
    expect(dataset.size).toBe(base.size);
    const byClass = indicesByClass(dataset).map((c) => c.length);
    for (const [k, k2] of splits) {
      expect(byClass[k]).toBe(3);
      expect(byClass[k2]).toBe(3);
      // both labels hold images of the same person
      const people = new Set(indicesByClass(dataset)[k2]!.map((i) => dataset.describe(i).split('/')[0]));
      expect([...people]).toEqual([base.describe(k * 6).split('/')[0]]);
    }
    for (let k = 5; k < 10; k++) expect(byClass[k]).toBe(6);
  });
});

describe('DerivedFaceDataset / splitByIdentity', () => {
  it('splits identities without overlap and relabels from 0', () => {
    const { train, heldOut } = splitByIdentity(base, 0.25);
    expect(train.numClasses + heldOut.numClasses).toBe(10);
    const a = new Set(Array.from({ length: train.size }, (_, i) => train.describe(i).split('/')[0]));
    for (let i = 0; i < heldOut.size; i++) expect(a.has(heldOut.describe(i).split('/')[0])).toBe(false);
    expect(Math.min(...heldOut.labels)).toBe(0);
  });

  it('rejects items pointing outside their source', () => {
    expect(() => new DerivedFaceDataset('x', [base], [{ source: 0, index: 999, label: 0 }], ['a'])).toThrow(/outside its source/);
    expect(() => new DerivedFaceDataset('x', [base], [{ source: 0, index: 0, label: 3 }], ['a'])).toThrow(/label 3/);
  });
});
