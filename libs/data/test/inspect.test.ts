import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFolderToRec } from '../src/convert.js';
import { formatDatasetReport, inspectDataset, perIdentityStats } from '../src/inspect.js';
import { encodeWithSharp, makeFolderFixture, noise, tmpDir, writeFile } from './fixtures.js';

const S = 16;
let root: string;
let cleanup: () => void;
beforeAll(async () => {
  ({ dir: root, cleanup } = tmpDir('inspect'));
  await makeFolderFixture(join(root, 'faces'), S);
  writeFile(join(root, 'faces', 'bob', 'big.png'), await encodeWithSharp(noise(20, 18), 20, 18, 'png'));
  const jpg = await encodeWithSharp(noise(S, S), S, S, 'jpeg');
  writeFile(join(root, 'faces', 'carol', 'cut.jpg'), jpg.subarray(0, 200));
  writeFile(join(root, 'faces', 'dave', '.keep'), '');
});
afterAll(() => cleanup());

describe('inspectDataset', () => {
  it('per-identity statistics match a direct computation', () => {
    const counts = [1, 1, 2, 3, 5, 8, 13, 40, 2, 1];
    const s = perIdentityStats(counts);
    const sorted = [...counts].sort((a, b) => a - b);
    expect([s.min, s.max, s.singletons, s.under5]).toEqual([1, 40, 3, 6]);
    expect(s.mean).toBeCloseTo(76 / 10, 10);
    expect(s.median).toBeCloseTo((sorted[4]! + sorted[5]!) / 2, 10);
    expect(s.top10PercentShare).toBeCloseTo(40 / 76, 10);
    expect(s.histogram.map((h) => [h.from, h.to, h.identities])).toEqual([[1, 1, 3], [2, 3, 3], [4, 7, 1], [8, 15, 2], [16, 31, 0], [32, 63, 1]]);
    expect(s.histogram.reduce((a, h) => a + h.identities, 0)).toBe(counts.length);
  });

  it('reports counts, sizes, formats, unreadable files and empty identities of a folder', async () => {
    const r = await inspectDataset(join(root, 'faces'));
    expect([r.kind, r.images, r.identities]).toEqual(['folder', 10, 3]);
    expect(r.sizes).toEqual([{ size: '16×16', count: 8 }, { size: '20×18', count: 1 }]);
    expect(r.formats).toEqual({ png: 5, jpeg: 2, bmp: 1, pnm: 1 });
    expect(r.unreadable).toHaveLength(1);
    expect(r.unreadable[0]!.item).toMatch(/carol\/cut\.jpg$/);
    expect(r.unreadable[0]!.reason).toMatch(/cannot decode JPEG/);
    expect(r.emptyIdentities).toEqual([join(root, 'faces', 'dave')]);
    expect(r.ignoredFiles.length).toBe(2);
    const text = formatDatasetReport(r);
    expect(text).toMatch(/images {7}10/);
    expect(text).toMatch(/unreadable {3}1\n.*cut\.jpg: cannot decode JPEG/);
    const quick = await inspectDataset(join(root, 'faces'), { decode: false });
    expect(quick.unreadable).toHaveLength(0); // the truncated JPEG's header is intact
  });

  it('inspects .rec and synthetic sources', async () => {
    const out = join(root, 'ok.rec');
    await convertFolderToRec(join(root, 'faces'), out, { imageSize: S, skipBad: true, check: 'decode', onWarning: () => undefined });
    const r = await inspectDataset(out);
    expect([r.kind, r.images, r.identities, r.unreadable.length]).toEqual(['rec', 9, 3, 0]);
    expect(r.sizes).toEqual([{ size: '16×16', count: 9 }]);
    const s = await inspectDataset('synthetic:identities=7,images=3');
    expect([s.kind, s.images, s.identities, s.perIdentity.min, s.perIdentity.max]).toEqual(['synthetic', 21, 7, 3, 3]);
  });
});
