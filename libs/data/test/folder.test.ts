import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../src/open.js';
import { ImageFolderDataset } from '../src/folder-dataset.js';
import { writeDatasetFolder } from '../src/export-folder.js';
import { SyntheticFaceDataset } from '../src/synthetic/dataset.js';
import { encodeWithSharp, makeFolderFixture, noise, tmpDir, writeFile } from './fixtures.js';

const S = 16;
let root: string;
let cleanup: () => void;
let lossless: Map<string, Uint8Array>;

beforeAll(async () => {
  ({ dir: root, cleanup } = tmpDir('folder'));
  lossless = await makeFolderFixture(join(root, 'ok'), S);
});
afterAll(() => cleanup());

describe('image-folder datasets', () => {
  it('labels come from sorted folder names; files are found recursively; non-images are reported once', async () => {
    const warnings: string[] = [];
    const ds = await openDataset(join(root, 'ok'), { imageSize: S, onWarning: (m) => warnings.push(m) });
    expect(ds).toBeInstanceOf(ImageFolderDataset);
    expect(ds.classNames).toEqual(['alice', 'bob', 'carol']);
    expect(ds.size).toBe(8);
    expect(Array.from(ds.labels)).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
    expect(ds.describe(7)).toMatch(/carol\/sub\/c1\.png$/);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ignored 1 non-image file.*notes\.txt/);
    // lossless files read back exactly, in RGB HWC
    const files = (ds as ImageFolderDataset).files.map((f) => f.slice(join(root, 'ok').length + 1));
    for (const [rel, px] of lossless) {
      const img = await ds.read(files.indexOf(rel));
      expect(img.length).toBe(S * S * 3);
      expect(Buffer.from(img).equals(Buffer.from(px))).toBe(true);
    }
  });

  it('resizes other sizes with one warning, or rejects them with strict', async () => {
    const dir = join(root, 'sizes');
    for (let i = 0; i < 3; i++) writeFile(join(dir, 'x', `${i}.png`), await encodeWithSharp(noise(24, 20, i), 24, 20, 'png'));
    writeFile(join(dir, 'y', '0.png'), await encodeWithSharp(noise(S, S, 9), S, S, 'png'));
    const warnings: string[] = [];
    const ds = await openDataset(dir, { imageSize: S, onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/3 of 4 image\(s\) are not 16×16 \(3 at 24×20.*resized.*--strict/);
    expect((await ds.read(0)).length).toBe(S * S * 3);
    await expect(openDataset(dir, { imageSize: S, strict: true })).rejects.toThrow(/3 image\(s\) are not 16×16.*drop --strict/);
  });

  it('missing folders, empty identities and unreadable images: one clear error, or skipped and listed', async () => {
    await expect(openDataset(join(root, 'nope'))).rejects.toThrow(/nope: no such folder\. Pass a folder laid out as root\/<identity>\/<image>/);
    const flat = join(root, 'flat');
    writeFile(join(flat, 'a.png'), await encodeWithSharp(noise(S, S), S, S, 'png'));
    await expect(openDataset(flat)).rejects.toThrow(/no identity sub-folders found \(it holds 1 images directly\)/);

    const bad = join(root, 'bad');
    await makeFolderFixture(bad, S);
    writeFile(join(bad, 'dave', 'readme.md'), 'no images here');
    const jpg = await encodeWithSharp(noise(S, S), S, S, 'jpeg');
    writeFile(join(bad, 'bob', 'zz-truncated.jpg'), jpg.subarray(0, 40));
    writeFile(join(bad, 'alice', 'zz-empty.png'), new Uint8Array(0));
    writeFile(join(bad, 'erin', 'only.jpg'), Buffer.from('definitely not a jpeg'));
    await expect(openDataset(bad, { imageSize: S, onWarning: () => undefined })).rejects.toThrow(/1 identity folder\(s\) hold no images: .*dave.*--skip-bad/);

    const warnings: string[] = [];
    // header check finds the empty and non-image files; the truncated JPEG needs a full decode
    const ds = await openDataset(bad, { imageSize: S, skipBad: true, check: 'decode', onWarning: (m) => warnings.push(m) });
    expect(ds.classNames).toEqual(['alice', 'bob', 'carol']);
    expect(ds.size).toBe(8);
    expect(warnings.join('\n')).toMatch(/skipped 1 empty identity folder/);
    expect(warnings.join('\n')).toMatch(/skipped 3 unreadable image\(s\): \S*zz-empty\.png \(the file is empty\); \S*zz-truncated\.jpg \(cannot decode JPEG \(.*\)\); \S*only\.jpg \(not a JPEG/);
    expect(warnings.join('\n')).toMatch(/1 identity folder\(s\) had only unreadable images/);

    rmSync(join(bad, 'dave'), { recursive: true });
    await expect(openDataset(bad, { imageSize: S, check: 'decode', onWarning: () => undefined })).rejects.toThrow(/3 unreadable image\(s\).*Fix or delete them, or pass --skip-bad/);
  });

  it('with header checks only, a truncated file fails on read() with the file name', async () => {
    const dir = join(root, 'lazy');
    const jpg = await encodeWithSharp(noise(S, S), S, S, 'jpeg');
    writeFile(join(dir, 'a', 'good.jpg'), jpg);
    writeFile(join(dir, 'a', 'half.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
    const ds = await openDataset(dir, { imageSize: S });
    expect(ds.size).toBe(2);
    await expect(ds.read(1)).rejects.toThrow(/half\.jpg: cannot decode JPEG/);
    writeFileSync(join(dir, 'a', 'good.jpg'), 'gone');
    await expect(ds.read(0)).rejects.toThrow(/good\.jpg: not a JPEG/);
  });

  it('writeDatasetFolder materialises a dataset that reads back identically (PNG)', async () => {
    const synth = new SyntheticFaceDataset({ identities: 3, imagesPerIdentity: 2, imageSize: S, seed: 4 });
    const out = join(root, 'synth');
    expect(await writeDatasetFolder(synth, out)).toBe(6);
    const back = await openDataset(out, { imageSize: S });
    expect(back.classNames).toEqual(synth.classNames);
    expect(Array.from(back.labels)).toEqual(Array.from(synth.labels));
    for (let i = 0; i < 6; i++) expect(Buffer.from(await back.read(i)).equals(Buffer.from(await synth.read(i)))).toBe(true);
  });
});
