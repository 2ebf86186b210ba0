// alignFaces on a small folder built from the real photos: layout kept, every image listed in align.json with what
// happened to it (no face, several faces, too small, unreadable), the three multiple-face policies, minFace, a
// linked identity folder, the contact sheet, progress, and flat tensor counts.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@facet/engine';
import { alignFaces, applyAffine, arcfaceTemplate, detectFaces, loadFaceApi, type AlignManifest, type AlignProgress } from '../src/index.js';

const PHOTOS = fileURLToPath(new URL('./fixtures/photos', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-align-folder-'));
const src = join(dir, 'src');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const photo = (id: string, f: string) => join(PHOTOS, id, f);
  mkdirSync(join(src, 'collins'), { recursive: true });
  copyFileSync(photo('nasa-eileen-collins', 'astronaut.jpg'), join(src, 'collins', 'a.jpg'));
  // a grey copy, and one stored sideways with its EXIF orientation tag
  await sharp(photo('nasa-eileen-collins', 'astronaut.jpg')).greyscale().png().toFile(join(src, 'collins', 'grey.png'));
  const turned = await sharp(photo('nasa-eileen-collins', 'astronaut.jpg')).rotate(-90).jpeg({ quality: 95 }).toBuffer();
  await sharp(turned).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(join(src, 'collins', 'exif.jpg'));
  // a linked identity folder (outside the tree, as a training subset links into a full set)
  mkdirSync(join(dir, 'elsewhere', 'hopper'), { recursive: true });
  copyFileSync(photo('usn-grace-hopper', 'grace_hopper.jpg'), join(dir, 'elsewhere', 'hopper', 'h.jpg'));
  symlinkSync(join(dir, 'elsewhere', 'hopper'), join(src, 'hopper'));
  // two people side by side; a picture without a face; an unreadable file; a thumbnail too small to use
  mkdirSync(join(src, 'misc'));
  const left = await sharp(photo('congress-020310', 'bioguide.jpg')).toBuffer();
  const right = await sharp(photo('congress-029768', 'bioguide.jpg')).resize({ height: 200 }).toBuffer();
  await sharp({ create: { width: 200 + 40 + 160, height: 250, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 240, top: 25 }])
    .jpeg()
    .toFile(join(src, 'misc', 'two.jpg'));
  const ramp = new Uint8Array(160 * 120 * 3).map((_, i) => (i % 480) >> 1);
  await sharp(Buffer.from(ramp), { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(join(src, 'misc', 'wall.png'));
  writeFileSync(join(src, 'misc', 'broken.jpg'), 'not a jpeg');
  await sharp(photo('congress-020310', 'bioguide.jpg')).resize(16, 20).png().toFile(join(src, 'misc', 'thumb.png'));
  await loadFaceApi('ssd');
}, 120_000);

const manifest = (dst: string) => JSON.parse(readFileSync(join(dst, 'align.json'), 'utf8')) as AlignManifest;
const status = (m: AlignManifest) => Object.fromEntries(m.images.map((r) => [r.source, r.status]));

describe('alignFaces', () => {
  it("multiple 'largest': crops every face image, lists the rest, keeps the layout", async () => {
    const dst = join(dir, 'out-largest');
    const progress: AlignProgress[] = [];
    await detectFaces(join(src, 'collins', 'a.jpg')); // kernels compiled before counting tensors
    const before = tf.memory().numTensors;
    const report = await alignFaces(src, dst, { onProgress: (p) => progress.push(p) });
    expect(tf.memory().numTensors).toBe(before);
    expect(report).toMatchObject({ images: 8, identities: 3, aligned: 5, crops: 5, noFace: ['misc/wall.png'], severalFaces: [], tooSmall: [] });
    expect(report.unreadable.map((u) => u.file).sort()).toEqual(['misc/broken.jpg', 'misc/thumb.png']);
    expect(report.unreadable.find((u) => u.file === 'misc/thumb.png')!.reason).toMatch(/16×20 px, too small/);
    expect(report.unreadable.find((u) => u.file === 'misc/broken.jpg')!.reason).toMatch(/not a readable image/);
    for (const f of ['collins/a.png', 'collins/grey.png', 'collins/exif.png', 'hopper/h.png', 'misc/two.png']) {
      const meta = await sharp(join(dst, f)).metadata();
      expect([f, meta.width, meta.height, meta.format]).toEqual([f, 112, 112, 'png']);
    }
    expect(existsSync(join(dst, 'misc', 'wall.png'))).toBe(false);
    const m = manifest(dst);
    expect(m).toMatchObject({ format: 'facet-align/1', size: 112, options: { multiple: 'largest', minFace: 0, minScore: 0.5 } });
    expect(m.detector).toMatch(/@vladmandic\/face-api 1\.7\.15 \(ssd_mobilenetv1 \+ face_landmark_68\)/);
    expect(status(m)).toEqual({
      'collins/a.jpg': 'aligned',
      'collins/exif.jpg': 'aligned',
      'collins/grey.png': 'aligned',
      'hopper/h.jpg': 'aligned',
      'misc/broken.jpg': 'unreadable',
      'misc/thumb.png': 'unreadable',
      'misc/two.jpg': 'aligned',
      'misc/wall.png': 'no-face',
    });
    // the recorded transform maps the recorded landmarks near the template
    const tpl = arcfaceTemplate(112);
    for (const r of m.images.filter((i) => i.status === 'aligned')) {
      const face = r.faces[0]!;
      const err = face.landmarks.map((p, k) => Math.hypot(applyAffine(face.transform, p)[0] - tpl[k]![0], applyAffine(face.transform, p)[1] - tpl[k]![1]));
      expect(Math.sqrt(err.reduce((s, e) => s + e * e, 0) / 5)).toBeCloseTo(face.rms, 9);
      expect(face.rms).toBeLessThan(8);
    }
    // the EXIF-tagged copy gives the upright crop: close to the plain one
    const a = await sharp(join(dst, 'collins', 'a.png')).raw().toBuffer();
    const e = await sharp(join(dst, 'collins', 'exif.png')).raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - e[i]!);
    expect(diff / a.length).toBeLessThan(12);
    // two people: the larger (left) one was kept
    const two = m.images.find((r) => r.source === 'misc/two.jpg')!;
    expect(two.detected).toBe(2);
    expect(two.faces[0]!.box.x).toBeLessThan(200);
    // contact sheet and progress
    const sheet = await sharp(join(dst, 'contact-sheet.png')).metadata();
    expect(sheet.width).toBeGreaterThan(5 * 112);
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.at(-1)).toMatchObject({ total: 8, crops: 5, failed: 3 });
    expect(progress.at(-1)!.imagesPerSecond).toBeGreaterThan(0);
  }, 600_000);

  it("multiple 'all' crops both people; 'skip' lists the image; minFace drops small faces", async () => {
    const only = join(dir, 'only-two');
    mkdirSync(join(only, 'pair'), { recursive: true });
    copyFileSync(join(src, 'misc', 'two.jpg'), join(only, 'pair', 'two.jpg'));
    // an image named like the second face's crop must not be overwritten by it
    copyFileSync(join(PHOTOS, 'usn-grace-hopper', 'grace_hopper.jpg'), join(only, 'pair', 'two_1.jpg'));
    const all = await alignFaces(only, join(dir, 'out-all'), { multiple: 'all', sheetSamples: 0 });
    rmSync(join(only, 'pair', 'two_1.jpg'));
    expect(all).toMatchObject({ aligned: 2, crops: 3 });
    expect(existsSync(join(dir, 'out-all', 'pair', 'two.png'))).toBe(true);
    expect(existsSync(join(dir, 'out-all', 'pair', 'two_1_.png'))).toBe(true);
    expect(existsSync(join(dir, 'out-all', 'contact-sheet.png'))).toBe(false);
    const outs = manifest(join(dir, 'out-all')).images.map((r) => r.faces.map((f) => f.output));
    expect(outs).toEqual([['pair/two.png', 'pair/two_1_.png'], ['pair/two_1.png']]);

    const skip = await alignFaces(only, join(dir, 'out-skip'), { multiple: 'skip' });
    expect(skip).toMatchObject({ aligned: 0, crops: 0, severalFaces: ['pair/two.jpg'] });
    expect(manifest(join(dir, 'out-skip')).images[0]).toMatchObject({ status: 'several-faces', reason: '2 faces (multiple: skip)', detected: 2 });

    // the right-hand face is smaller: a minFace between the two sizes leaves one face, so 'skip' keeps the image
    const boxes = manifest(join(dir, 'out-all')).images.find((r) => r.source === 'pair/two.jpg')!.faces.map((f) => Math.min(f.box.width, f.box.height));
    const between = (boxes[0]! + boxes[1]!) / 2;
    const one = await alignFaces(only, join(dir, 'out-min'), { multiple: 'skip', minFace: between });
    expect(one).toMatchObject({ aligned: 1, crops: 1, severalFaces: [] });
    const none = await alignFaces(only, join(dir, 'out-min2'), { minFace: 10_000 });
    expect(none).toMatchObject({ aligned: 0, tooSmall: ['pair/two.jpg'] });
    expect(manifest(join(dir, 'out-min2')).images[0]!.reason).toMatch(/^2 face\(s\), the largest \d+ px, under minFace 10000 px$/);
  }, 600_000);

  it('refuses a missing source folder and bad options with one clear line', async () => {
    await expect(alignFaces(join(dir, 'nope'), join(dir, 'x'))).rejects.toThrow(/nope: no such folder/);
    await expect(alignFaces(src, join(dir, 'x'), { multiple: 'most' as never })).rejects.toThrow(/multiple 'most': use largest, all or skip/);
    await expect(alignFaces(src, join(dir, 'x'), { minFace: -1 })).rejects.toThrow(/minFace -1/);
    await expect(alignFaces(src, join(dir, 'x'), { size: 4 })).rejects.toThrow(/size 4: must be a whole number of pixels ≥ 8 \(--size/);
    await expect(alignFaces(src, join(dir, 'x'), { minScore: 2 })).rejects.toThrow(/minScore 2: must be between 0 and 1 \(--min-score\)/);
    await expect(alignFaces(src, join(dir, 'x'), { detector: 'mtcnn' as never })).rejects.toThrow(/detector 'mtcnn': use ssd or tiny/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    // an output path that is a file, not a folder
    writeFileSync(join(dir, 'a-file'), 'x');
    await expect(alignFaces(src, join(dir, 'a-file'))).rejects.toThrow(/a-file\/collins\/a\.png: cannot write it \(.*\); check that the output folder is writable/);
  });
});
