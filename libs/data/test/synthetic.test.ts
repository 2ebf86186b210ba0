import { describe, expect, it } from 'vitest';
import { openDataset } from '../src/open.js';
import { parseSyntheticSource, SyntheticFaceDataset } from '../src/synthetic/dataset.js';
import { renderSyntheticFace } from '../src/synthetic/render.js';
import { bestThresholdAccuracy, rawPixelVerification } from '../src/verification/raw-pixel.js';
import { syntheticVerificationSet } from '../src/verification/synthetic.js';

const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');

describe('synthetic faces', () => {
  it('are deterministic in (seed, identity, variant) and differ when any of them changes', () => {
    const a = renderSyntheticFace(3, 5, { seed: 7 });
    expect(a.length).toBe(112 * 112 * 3);
    expect(hex(renderSyntheticFace(3, 5, { seed: 7 }))).toBe(hex(a));
    for (const other of [renderSyntheticFace(3, 5, { seed: 8 }), renderSyntheticFace(4, 5, { seed: 7 }), renderSyntheticFace(3, 6, { seed: 7 })]) {
      expect(hex(other)).not.toBe(hex(a));
    }
    // any size, same layout
    expect(renderSyntheticFace(3, 5, { seed: 7, imageSize: 56 }).length).toBe(56 * 56 * 3);
    expect(() => renderSyntheticFace(-1, 0)).toThrow(/identity must be a non-negative integer/);
    expect(() => renderSyntheticFace(0, 0, { nuisance: 2 })).toThrow(/nuisance must be in \[0, 1\]/);
  });

  it('with nuisance 0 every image of an identity is the same; identities differ', () => {
    const v0 = renderSyntheticFace(2, 0, { nuisance: 0 });
    expect(hex(renderSyntheticFace(2, 9, { nuisance: 0 }))).toBe(hex(v0));
    expect(hex(renderSyntheticFace(12, 0, { nuisance: 0 }))).not.toBe(hex(v0));
  });

  it('SyntheticFaceDataset labels, names, offsets and descriptors', async () => {
    const ds = new SyntheticFaceDataset({ identities: 3, imagesPerIdentity: 4, identityOffset: 10, imageSize: 32 });
    expect(ds.size).toBe(12);
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(ds.classNames).toEqual(['id_00010', 'id_00011', 'id_00012']);
    expect(ds.describe(5)).toBe('synthetic#id_00011/1');
    expect(hex(await ds.read(5))).toBe(hex(renderSyntheticFace(11, 1, { imageSize: 32 })));
    expect(() => new SyntheticFaceDataset({ identities: 0 })).toThrow(/identities must be an integer/);
    const opened = await openDataset('synthetic:ids=5,images=2,seed=3,size=24');
    expect([opened.size, opened.numClasses, opened.imageSize]).toEqual([10, 5, 24]);
    expect(parseSyntheticSource('synthetic')).toEqual({});
    expect(() => parseSyntheticSource('synthetic:people=3')).toThrow(/'people=3' is not key=number. Keys: identities/);
  });

  it('keeps rendered images up to its byte budget; every read equals a fresh render and is the caller\'s own copy', () => {
    const bytes = 16 * 16 * 3;
    const ds = new SyntheticFaceDataset({ identities: 2, imagesPerIdentity: 3, imageSize: 16, seed: 5 }, 4 * bytes);
    const fresh = (i: number) => renderSyntheticFace(ds.locate(i).identity, ds.locate(i).variant, ds.options);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < ds.size; i++) {
        const img = ds.readSync(i);
        expect(hex(img)).toBe(hex(fresh(i)));
        img.fill(0); // a caller writing into its image must not change the next read
      }
    }
    expect((ds as unknown as { renderedBytes: number }).renderedBytes).toBe(4 * bytes);
    expect(() => ds.readSync(6)).toThrow(/index 6 outside \[0, 6\)/);
  });

  it('bestThresholdAccuracy equals a brute-force sweep over all thresholds', () => {
    const scores = [0.1, 0.9, 0.4, 0.4, 0.7, 0.2, 0.8, 0.3];
    const same = [false, true, true, false, true, false, false, true];
    let best = 0;
    for (const t of [-Infinity, ...scores, Infinity]) {
      for (const strict of [true, false]) {
        const acc = scores.filter((s, i) => (strict ? s > t : s >= t) === same[i]).length / scores.length;
        best = Math.max(best, acc);
      }
    }
    const r = bestThresholdAccuracy(scores, same);
    expect(r.accuracy).toBe(best);
    expect(scores.filter((s, i) => s >= r.threshold === same[i]).length / scores.length).toBe(best);
  });

  it('held-out verification pairs alternate genuine/impostor and raw pixels barely beat chance (target 60–75 %)', () => {
    const set = syntheticVerificationSet({ pairs: 300, seed: 0 });
    expect(set.issame.slice(0, 4)).toEqual([true, false, true, false]);
    expect(set.name).toMatch(/id_100000\.\.id_100099/);
    const raw = rawPixelVerification(set);
    // measured 61 % on 1,000 pairs; a small set has a few points of sampling noise
    expect(raw.accuracy).toBeGreaterThan(0.53);
    expect(raw.accuracy).toBeLessThan(0.78);
    // the same pairs without nuisances are trivially separable
    const clean = rawPixelVerification(syntheticVerificationSet({ pairs: 100, seed: 0, nuisance: 0 }));
    expect(clean.accuracy).toBe(1);
  });
});
