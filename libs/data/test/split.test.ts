// facet data split: held-out identities never in train, identity-disjoint balanced folds, pairs that eval reads.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePairs, scanImageFolder, splitIdentities } from '../src/index.js';

/** root/<id>/<k>.png for `counts[i]` images of identity i (one-pixel PNGs: the split never decodes). */
function folder(counts: number[], name = (i: number) => `id${String(i).padStart(2, '0')}`): string {
  const root = mkdtempSync(join(tmpdir(), 'facet-split-src-'));
  // a 1×1 PNG
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d0e6a40000000049454e44ae426082', 'hex');
  counts.forEach((n, i) => {
    mkdirSync(join(root, name(i)));
    for (let k = 0; k < n; k++) writeFileSync(join(root, name(i), `${k}.png`), png);
  });
  return root;
}

const dst = () => join(mkdtempSync(join(tmpdir(), 'facet-split-dst-')), 'split');

describe('splitIdentities', () => {
  it('holds out identities with ≥ 2 images, links the rest for training, writes balanced identity-disjoint folds', async () => {
    const counts = Array.from({ length: 30 }, (_, i) => (i % 7 === 0 ? 1 : 2 + (i % 3)));
    const src = folder(counts);
    const out = dst();
    const r = await splitIdentities(src, out, { heldOut: 12, pairs: 60, folds: 4, seed: 5 });
    expect(r.test.identities).toBe(12);
    expect(r.train.identities).toBe(18);
    const trainIds = readdirSync(join(out, 'train'));
    const testIds = readdirSync(join(out, 'test'));
    expect(trainIds.filter((t) => testIds.includes(t))).toEqual([]);
    expect([...trainIds, ...testIds].sort()).toEqual(readdirSync(src).sort());
    // held-out identities have two or more images
    for (const id of testIds) expect(counts[Number(id.slice(2))]).toBeGreaterThanOrEqual(2);
    // the training side reads as a dataset through its links
    const scan = await scanImageFolder(join(out, 'train'));
    expect(scan.classNames.length).toBe(18);
    expect(scan.files.length).toBe(r.train.images);

    const { pairs, hasFolds } = parsePairs(readFileSync(r.pairs.file, 'utf8'), r.pairs.file, join(out, 'test'));
    expect(hasFolds).toBe(true);
    const idOf = (p: string) => p.split('/').at(-2)!;
    const foldsOf = new Map<string, Set<number>>();
    for (const p of pairs) {
      expect(idOf(p.a) === idOf(p.b)).toBe(p.same);
      for (const f of [p.a, p.b]) foldsOf.set(idOf(f), (foldsOf.get(idOf(f)) ?? new Set()).add(p.fold!));
    }
    // each person in one fold only; every fold half genuine
    for (const s of foldsOf.values()) expect(s.size).toBe(1);
    for (let k = 1; k <= 4; k++) {
      const inFold = pairs.filter((p) => p.fold === k);
      expect(inFold.length).toBeGreaterThan(0);
      expect(inFold.filter((p) => p.same).length * 2).toBe(inFold.length);
    }
    expect(r.pairs.genuine).toBe(r.pairs.impostor);
    expect(r.pairs.genuine).toBeLessThanOrEqual(30);
    // no pair twice
    expect(new Set(pairs.map((p) => `${p.a}|${p.b}`)).size).toBe(pairs.length);
    // the same seed gives the same split
    const again = await splitIdentities(src, dst(), { heldOut: 12, pairs: 60, folds: 4, seed: 5 });
    expect(again.test.names).toEqual(r.test.names);
    expect(readFileSync(again.pairs.file, 'utf8').split('\n').slice(1)).toEqual(readFileSync(r.pairs.file, 'utf8').split('\n').slice(1));
  });

  it('says what is wrong: too few identities with two images, a non-empty destination, blanks in names', async () => {
    const src = folder([2, 2, 1, 1, 1]);
    await expect(splitIdentities(src, dst(), { heldOut: 3 })).rejects.toThrow(/2 identities have 2 or more images, fewer than --held-out 3; lower --held-out/);
    await expect(splitIdentities(src, dst(), { heldOut: 1 })).rejects.toThrow(/--held-out 1: must be a whole number ≥ 2/);
    await expect(splitIdentities(src, src, { heldOut: 2 })).rejects.toThrow(/exists and is not empty/);
    const spaced = folder([2, 2, 2, 2], (i) => `person ${i}`);
    await expect(splitIdentities(spaced, dst(), { heldOut: 2 })).rejects.toThrow(/has a blank, which a pairs line cannot hold/);
  });
});

describe('lowResolutionSet', () => {
  it('degrades every crop as the lowres augmentation does (shared images once), keeps labels and folds', async () => {
    const { downscaleRestore, lowResolutionSet } = await import('../src/index.js');
    const size = 16;
    const img = (seed: number) => Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 37 + seed * 101) % 256);
    const shared = img(1);
    const set = { name: 'pairs', imagesA: [shared, img(2)], imagesB: [img(3), shared], issame: [true, false], imageSize: size, foldIds: [1, 2] };
    const low = lowResolutionSet(set, 4, size);
    expect(low.name).toBe('pairs@4px');
    expect(low.issame).toEqual(set.issame);
    expect(low.foldIds).toEqual(set.foldIds);
    expect(Array.from(low.imagesA[1]!)).toEqual(Array.from(downscaleRestore(img(2), size, 4)));
    expect(low.imagesA[0]).toBe(low.imagesB[1]);
    expect(Array.from(low.imagesA[1]!)).not.toEqual(Array.from(set.imagesA[1]!));
    expect(lowResolutionSet(set, size, size)).toBe(set);
    expect(() => lowResolutionSet(set, 0, size)).toThrow(/--low-res 0: must be a whole number of pixels from 1 to the model's input size 16/);
  });
});
