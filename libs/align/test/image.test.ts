// Inputs: grey and RGBA images become RGB, EXIF orientation is applied, and tiny, huge, empty, corrupt and missing
// files give one clear AlignError naming the file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { AlignError, decodeUpright, toRawImage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'facet-align-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 60×40 RGB image whose pixels say where they are: R = 4x, G = 6y, B = 77. */
function coded(W = 60, H = 40) {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([4 * x, 6 * y, 77], (y * W + x) * 3);
  return { data, width: W, height: H };
}

const raw = (img: { data: Uint8Array; width: number; height: number }, channels: 1 | 3 | 4 = 3) =>
  sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels } });

describe('decodeUpright', () => {
  it('replicates grey to RGB', async () => {
    const grey = { data: new Uint8Array(50 * 40).map((_, i) => i % 251), width: 50, height: 40 };
    const png = await raw(grey, 1).png().toBuffer();
    const img = await decodeUpright(png, 'grey.png');
    expect([img.width, img.height]).toEqual([50, 40]);
    for (let i = 0; i < 50 * 40; i++) expect([img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]]).toEqual([grey.data[i], grey.data[i], grey.data[i]]);
  });

  it('drops alpha from RGBA (the colour values are kept, as cv2.imread and @facet/data do)', async () => {
    const c = coded();
    const rgba = new Uint8Array(c.width * c.height * 4);
    for (let i = 0; i < c.width * c.height; i++) rgba.set([c.data[i * 3]!, c.data[i * 3 + 1]!, c.data[i * 3 + 2]!, i % 2 ? 0 : 255], i * 4);
    const png = await raw({ data: rgba, width: c.width, height: c.height }, 4).png().toBuffer();
    const img = await decodeUpright(png, 'rgba.png');
    expect(Buffer.from(img.data).equals(Buffer.from(c.data))).toBe(true);
  });

  it('applies the EXIF orientation', async () => {
    const c = coded();
    // store the pixels turned 90° anticlockwise, tagged orientation 6 ("rotate 90° clockwise to display")
    const stored = await raw(c).rotate(-90).png().toBuffer();
    const tagged = await sharp(stored).withMetadata({ orientation: 6 }).png().toBuffer();
    expect((await sharp(tagged).metadata()).orientation).toBe(6);
    const img = await decodeUpright(tagged, 'rotated.png');
    expect([img.width, img.height]).toEqual([60, 40]);
    expect(Buffer.from(img.data).equals(Buffer.from(c.data))).toBe(true);
    // and JPEG with EXIF 8 (stored turned clockwise): compare loosely (lossy)
    const storedJ = await raw(c).rotate(90).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
    const taggedJ = await sharp(storedJ).withMetadata({ orientation: 8 }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
    const j = await decodeUpright(taggedJ, 'rotated.jpg');
    expect([j.width, j.height]).toEqual([60, 40]);
    let err = 0;
    for (let i = 0; i < j.data.length; i++) err = Math.max(err, Math.abs(j.data[i]! - c.data[i]!));
    expect(err).toBeLessThan(12);
  });

  it('gives a clear error for tiny and huge images, before decoding the huge one', async () => {
    const tiny = await raw({ data: new Uint8Array(12 * 9 * 3), width: 12, height: 9 }).png().toBuffer();
    await expect(decodeUpright(tiny, 'tiny.png')).rejects.toThrow(/^tiny\.png: image is 12×9 px, too small to find a face in \(the shorter side must be ≥ 32 px\)/);
    // 11000×10000: 110 MP, over the default 100 MP; a flat PNG compresses to a few hundred kB
    const huge = await sharp({ create: { width: 11000, height: 10000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 1 }).toBuffer();
    const t0 = performance.now();
    const e = await decodeUpright(huge, 'huge.png').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AlignError);
    expect((e as Error).message).toMatch(/^huge\.png: image is 11000×10000 px \(110 MP\), over the 100 MP limit\. Downscale it first, or raise maxPixels \(--max-pixels\)\./);
    expect(performance.now() - t0).toBeLessThan(2000);
    await expect(decodeUpright(huge, 'huge.png', { maxPixels: 50e6 })).rejects.toThrow(/over the 50 MP limit/);
  }, 60_000);

  it('names the file for empty, corrupt, missing inputs and bad pixel buffers', async () => {
    writeFileSync(join(dir, 'empty.jpg'), '');
    writeFileSync(join(dir, 'junk.jpg'), 'this is not a picture at all');
    const jpeg = await raw(coded()).jpeg().toBuffer();
    writeFileSync(join(dir, 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await expect(toRawImage(join(dir, 'empty.jpg'))).rejects.toThrow(/empty\.jpg: the file is empty/);
    await expect(toRawImage(join(dir, 'junk.jpg'))).rejects.toThrow(/junk\.jpg: not a readable image/);
    await expect(toRawImage(join(dir, 'cut.jpg'))).rejects.toThrow(/cut\.jpg: .*(premature end|truncated)/);
    await expect(toRawImage(join(dir, 'nope.jpg'))).rejects.toThrow(/nope\.jpg: no such file/);
    await expect(toRawImage(dir)).rejects.toThrow(/is a folder, not an image/);
    await expect(toRawImage({ data: new Uint8Array(10), width: 40, height: 40 })).rejects.toThrow(/width×height×3 bytes/);
  });
});

describe('BMP and PGM', () => {
  it("decodes PGM through @facet/data's decoder", async () => {
    const pixels = new Uint8Array(40 * 36).map((_, i) => (i * 7) % 256);
    const img = await decodeUpright(Buffer.concat([Buffer.from('P5\n40 36\n255\n'), Buffer.from(pixels)]), 'grey.pgm');
    expect([img.width, img.height]).toEqual([40, 36]);
    for (let i = 0; i < pixels.length; i++) expect(img.data[i * 3 + 1]).toBe(pixels[i]);
  });

  it("decodes BMP through @facet/data's decoder (libvips has no BMP loader)", async () => {
    // a 40×34 24-bit bottom-up BMP of the coded pattern, written by hand
    const c = coded(40, 34);
    const row = Math.ceil((40 * 3) / 4) * 4;
    const bmp = Buffer.alloc(54 + row * 34);
    bmp.write('BM', 0);
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(40, 18);
    bmp.writeInt32LE(34, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    for (let y = 0; y < 34; y++) {
      for (let x = 0; x < 40; x++) {
        const s = (y * 40 + x) * 3, d = 54 + (33 - y) * row + x * 3;
        bmp[d] = c.data[s + 2]!;
        bmp[d + 1] = c.data[s + 1]!;
        bmp[d + 2] = c.data[s]!;
      }
    }
    const img = await decodeUpright(bmp, 'coded.bmp');
    expect([img.width, img.height]).toEqual([40, 34]);
    expect(Buffer.from(img.data).equals(Buffer.from(c.data))).toBe(true);
  });
});
