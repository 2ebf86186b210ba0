import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../src/open.js';
import { ImageFolderDataset } from '../src/folder-dataset.js';
import { writeDatasetFolder } from '../src/export-folder.js';
import { convertFolderToRec } from '../src/convert.js';
import { inspectDataset } from '../src/inspect.js';
import { BatchLoader } from '../src/loader.js';
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

  describe('symbolic links', () => {
    const readAll = async (ds: Awaited<ReturnType<typeof openDataset>>) => Promise.all(Array.from({ length: ds.size }, (_, i) => ds.read(i)));

    it('a folder of links to identity folders (and of linked image files) opens, trains and converts like the real one', async () => {
      const real = join(root, 'ok');
      const subset = join(root, 'subset');
      mkdirSync(subset);
      for (const id of ['alice', 'bob']) symlinkSync(join(real, id), join(subset, id), 'dir');
      // carol as a real folder of linked files, its sub-folder a link
      mkdirSync(join(subset, 'carol'));
      symlinkSync(join(real, 'carol', 'c0.pgm'), join(subset, 'carol', 'c0.pgm'));
      symlinkSync(join(real, 'carol', 'notes.txt'), join(subset, 'carol', 'notes.txt'));
      symlinkSync(join(real, 'carol', 'sub'), join(subset, 'carol', 'sub'), 'dir');
      const a = (await openDataset(real, { imageSize: S, onWarning: () => undefined })) as ImageFolderDataset;
      const warnings: string[] = [];
      const b = (await openDataset(subset, { imageSize: S, onWarning: (m) => warnings.push(m) })) as ImageFolderDataset;
      expect(warnings).toEqual([expect.stringMatching(/ignored 1 non-image file.*notes\.txt/)]);
      expect(b.classNames).toEqual(a.classNames);
      expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
      expect(b.files.map((f) => f.slice(subset.length))).toEqual(a.files.map((f) => f.slice(real.length)));
      const [pa, pb] = [await readAll(a), await readAll(b)];
      pb.forEach((px, i) => expect(Buffer.from(px).equals(Buffer.from(pa[i]!))).toBe(true));
      // the training loader (workers re-open the file list) yields the same batch
      const batch = async (ds: ImageFolderDataset) => {
        const l = new BatchLoader(ds, { batchSize: 4, seed: 3, numWorkers: 1, augment: { flip: true } });
        try {
          return await l.next();
        } finally {
          await l.close();
        }
      };
      const [ba, bb] = [await batch(a), await batch(b)];
      expect(Array.from(bb.indices)).toEqual(Array.from(ba.indices));
      expect(Array.from(bb.labels)).toEqual(Array.from(ba.labels));
      expect(Buffer.from(bb.images.buffer).equals(Buffer.from(ba.images.buffer))).toBe(true);
      // facet data convert writes the same records; facet data inspect counts the same
      await convertFolderToRec(real, join(root, 'real.rec'), { imageSize: S, onWarning: () => undefined });
      await convertFolderToRec(subset, join(root, 'subset.rec'), { imageSize: S, onWarning: () => undefined });
      expect(readFileSync(join(root, 'subset.rec')).equals(readFileSync(join(root, 'real.rec')))).toBe(true);
      const [ia, ib] = [await inspectDataset(real), await inspectDataset(subset)];
      expect([ib.images, ib.identities, ib.unreadable.length, ib.skippedLinks.length]).toEqual([ia.images, ia.identities, 0, 0]);
    });

    it('link loops end: folders already walked are skipped with a warning, a loop of file links is unreadable', async () => {
      const dir = join(root, 'loops');
      const img = await encodeWithSharp(noise(S, S, 5), S, S, 'png');
      writeFile(join(dir, 'x', 'x0.png'), img);
      writeFile(join(dir, 'y', 'y0.png'), img);
      symlinkSync(dir, join(dir, 'x', 'root-again'), 'dir'); // back to the dataset root
      symlinkSync(join(dir, 'x'), join(dir, 'x', 'self'), 'dir'); // to its own identity folder
      symlinkSync(join(dir, 'y'), join(dir, 'x', 'to-y'), 'dir'); // into another identity
      symlinkSync(dir, join(dir, 'z'), 'dir'); // an identity that is the root itself
      symlinkSync(join(dir, 'y'), join(dir, 'y2'), 'dir'); // a second name for identity y
      const warnings: string[] = [];
      const ds = (await openDataset(dir, { imageSize: S, onWarning: (m) => warnings.push(m) })) as ImageFolderDataset;
      expect(ds.classNames).toEqual(['x', 'y']);
      expect(ds.files.map((f) => f.slice(dir.length + 1))).toEqual(['x/x0.png', 'y/y0.png']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/did not follow 5 linked folder\(s\): \S*y2 \(links to the same folder as identity y .*\); \S*z \(links to the dataset folder itself \(a loop\)\); \S*x\/root-again \(links to \S*, a folder already scanned.*\); … \(5 in all\)/);
      const report = await inspectDataset(dir);
      expect(report.skippedLinks.map((l) => l.item.slice(dir.length + 1)).sort()).toEqual(['x/root-again', 'x/self', 'x/to-y', 'y2', 'z']);
      expect(report.skippedLinks.find((l) => l.item.endsWith('z'))!.reason).toMatch(/the dataset folder itself/);
      expect(report.skippedLinks.find((l) => l.item.endsWith('y2'))!.reason).toMatch(/same folder as identity y/);

      // two file links pointing at each other: stat says ELOOP
      symlinkSync(join(dir, 'y', 'p.png'), join(dir, 'y', 'q.png'));
      symlinkSync(join(dir, 'y', 'q.png'), join(dir, 'y', 'p.png'));
      await expect(openDataset(dir, { imageSize: S, onWarning: () => undefined })).rejects.toThrow(/2 unreadable symbolic link\(s\): \S*y\/p\.png \(symbolic link loop.*\); \S*y\/q\.png \(symbolic link loop.*--skip-bad/);
    });

    it('broken links (an identity or an image) are listed as unreadable, never silently dropped', async () => {
      const dir = join(root, 'broken');
      await makeFolderFixture(join(root, 'broken-real'), S);
      mkdirSync(dir);
      symlinkSync(join(root, 'broken-real', 'alice'), join(dir, 'alice'), 'dir');
      symlinkSync(join(root, 'broken-real', 'bob'), join(dir, 'bob'), 'dir');
      symlinkSync(join(root, 'no-such-identity'), join(dir, 'dave'), 'dir');
      symlinkSync(join(root, 'broken-real', 'alice', 'gone.png'), join(root, 'broken-real', 'bob', 'b9.png'));
      await expect(openDataset(dir, { imageSize: S, onWarning: () => undefined })).rejects.toThrow(
        /2 unreadable symbolic link\(s\): \S*bob\/b9\.png \(broken symbolic link to \S*alice\/gone\.png\); \S*broken\/dave \(broken symbolic link to \S*no-such-identity\)\. Fix or delete the links, or pass --skip-bad/,
      );
      const warnings: string[] = [];
      const ds = await openDataset(dir, { imageSize: S, skipBad: true, onWarning: (m) => warnings.push(m) });
      expect(ds.classNames).toEqual(['alice', 'bob']);
      expect(ds.size).toBe(6);
      expect(warnings.join('\n')).toMatch(/skipped 2 unreadable symbolic link\(s\)/);
      const report = await inspectDataset(dir);
      expect(report.unreadable.map((u) => u.reason)).toEqual([expect.stringMatching(/^broken symbolic link to .*gone\.png$/), expect.stringMatching(/^broken symbolic link to .*no-such-identity$/)]);
      // a folder of nothing but broken links says so
      const none = join(root, 'only-broken');
      mkdirSync(none);
      symlinkSync(join(root, 'nowhere'), join(none, 'a'), 'dir');
      await expect(openDataset(none)).rejects.toThrow(/no identity sub-folders found \(1 broken symbolic link\(s\), e\.g\. \S*only-broken\/a: broken symbolic link to/);
    });
  });
});
