import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchLoader, type Batch } from '../src/loader.js';
import { openDataset } from '../src/open.js';
import { SyntheticFaceDataset } from '../src/synthetic/dataset.js';
import { encodeWithSharp, makeFolderFixture, noise, tmpDir, writeFile } from './fixtures.js';

const S = 24;
const aug = {
  flip: true,
  randomResizedCrop: { scale: [0.7, 1] as [number, number], ratio: [0.9, 1.1] as [number, number] },
  colorJitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2 },
  blur: { sigma: [0.3, 1] as [number, number], p: 0.3 },
  downscale: { minSize: 8, maxSize: 16, p: 0.3 },
};
let root: string;
let cleanup: () => void;
beforeAll(() => ({ dir: root, cleanup } = tmpDir('loader')));
afterAll(() => cleanup());

async function take(loader: BatchLoader, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) out.push(await loader.next());
  return out;
}
const key = (b: Batch) => `${b.epoch}:${Array.from(b.indices).join(',')}:${Buffer.from(b.images.buffer).toString('base64')}`;

describe('BatchLoader', () => {
  const ds = new SyntheticFaceDataset({ identities: 5, imagesPerIdentity: 4, imageSize: S });

  it('order is a seeded permutation per epoch: same seed ⇒ same batches, other seed or epoch ⇒ other order', async () => {
    const a = new BatchLoader(ds, { batchSize: 6, seed: 1, augment: false });
    const b = new BatchLoader(ds, { batchSize: 6, seed: 1, augment: false });
    const c = new BatchLoader(ds, { batchSize: 6, seed: 2, augment: false });
    expect(a.batchesPerEpoch).toBe(3);
    const ba = await take(a, 6);
    const bb = await take(b, 6);
    const bc = await take(c, 6);
    expect(ba.map(key)).toEqual(bb.map(key));
    expect(ba.map((x) => x.epoch)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(ba.map((x) => x.batchInEpoch)).toEqual([0, 1, 2, 0, 1, 2]);
    const ep0 = ba.slice(0, 3).flatMap((x) => Array.from(x.indices));
    const ep1 = ba.slice(3).flatMap((x) => Array.from(x.indices));
    expect(new Set(ep0).size).toBe(18); // drop_last: 18 of 20, no repeats
    expect(ep1).not.toEqual(ep0);
    expect(bc.flatMap((x) => Array.from(x.indices)).slice(0, 18)).not.toEqual(ep0);
    // labels and pixels match the dataset
    const first = ba[0]!;
    expect(Array.from(first.labels)).toEqual(Array.from(first.indices, (i) => ds.labels[i]!));
    const img = await ds.read(first.indices[0]!);
    for (let k = 0; k < 30; k++) expect(first.images[k]).toBeCloseTo((img[k]! - 127.5) / 127.5, 6);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('shuffle false, dropLast false and index subsets', async () => {
    const l = new BatchLoader(ds, { batchSize: 8, shuffle: false, dropLast: false, augment: false, indices: Int32Array.from([3, 1, 4, 15, 9]) });
    expect(l.batchesPerEpoch).toBe(1);
    const [b1, b2] = await take(l, 2);
    expect(Array.from(b1!.indices)).toEqual([3, 1, 4, 15, 9]);
    expect(b1!.images.length).toBe(5 * S * S * 3);
    expect(b2!.epoch).toBe(1);
    const full = new BatchLoader(ds, { batchSize: 8, shuffle: false, dropLast: false, augment: false, prefetch: 0 });
    expect((await take(full, 3)).map((b) => b.indices.length)).toEqual([8, 8, 4]);
    expect(() => new BatchLoader(ds, { batchSize: 64 })).toThrow(/20 images cannot fill one batch of 64 with dropLast/);
    expect(() => new BatchLoader(ds, { batchSize: 4, numWorkers: -1 })).toThrow(/numWorkers must be an integer/);
    expect(() => new BatchLoader(ds, { batchSize: 4, indices: Int32Array.from([99]) })).toThrow(/indices holds 99/);
  });

  it('state()/restore() resume exactly, prefetched batches included', async () => {
    const a = new BatchLoader(ds, { batchSize: 7, seed: 5, augment: aug, prefetch: 3 });
    await take(a, 4); // crosses an epoch boundary
    const saved = a.state();
    const rest = await take(a, 3);
    const b = new BatchLoader(ds, { batchSize: 7, seed: 99, augment: aug });
    b.restore(saved);
    expect((await take(b, 3)).map(key)).toEqual(rest.map(key));
    expect(() => b.restore({ epoch: -1, cursor: 0, seed: 0 })).toThrow(/bad state/);
  });

  it('augmentation and two views are deterministic per (seed, epoch, index) and independent of numWorkers', async () => {
    const opts = { batchSize: 5, seed: 3, augment: aug, twoViews: true };
    const main = new BatchLoader(ds, { ...opts, numWorkers: 0 });
    const workers = new BatchLoader(ds, { ...opts, numWorkers: 2, prefetch: 1 });
    const m = await take(main, 5);
    const w = await take(workers, 5);
    expect(w.map(key)).toEqual(m.map(key));
    expect(w.map((b) => Buffer.from(b.views2!.buffer).toString('base64'))).toEqual(m.map((b) => Buffer.from(b.views2!.buffer).toString('base64')));
    expect(Buffer.from(m[0]!.views2!.buffer).equals(Buffer.from(m[0]!.images.buffer))).toBe(false);
    await Promise.all([main.close(), workers.close()]);
  });

  it('folder datasets load in workers too; unreadable images fail clearly or are replaced within their class', async () => {
    const dir = join(root, 'faces');
    await makeFolderFixture(dir, S);
    const jpg = await encodeWithSharp(noise(S, S, 3), S, S, 'jpeg');
    writeFile(join(dir, 'alice', 'zz-half.jpg'), jpg.subarray(0, Math.floor(jpg.length * 0.5)));
    const folder = await openDataset(dir, { imageSize: S, onWarning: () => undefined });
    expect(folder.describe(3)).toMatch(/alice\/zz-half\.jpg$/); // alice's files sort first: a0..a2, zz-half
    for (const numWorkers of [0, 2]) {
      const l = new BatchLoader(folder, { batchSize: 9, shuffle: false, augment: false, numWorkers });
      await expect(l.next()).rejects.toThrow(/zz-half\.jpg: cannot decode JPEG .*facet data inspect.*--skip-bad/);
      await l.close();
      const warnings: string[] = [];
      const s = new BatchLoader(folder, { batchSize: 9, shuffle: false, augment: false, numWorkers, skipBad: true, onWarning: (m) => warnings.push(m) });
      const b = await s.next();
      await s.next(); // the next epoch reads the bad file again: no second warning
      expect(Array.from(b.indices)).toEqual([0, 1, 2, 0, 4, 5, 6, 7, 8]);
      expect(Array.from(b.labels.slice(0, 4))).toEqual([0, 0, 0, 0]);
      expect(b.skipped).toEqual([expect.stringMatching(/zz-half\.jpg → .*a0\.png: cannot decode JPEG/)]);
      expect(warnings).toHaveLength(1);
      await s.close();
    }
  });
});
