import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { DataError } from '../src/errors.js';
import { decodeImage } from '../src/image/decode.js';
import { encodeImage } from '../src/image/encode.js';
import { probeImage } from '../src/image/probe.js';
import { fitToSquare, resizeRgb } from '../src/image/resample.js';
import { encodeBmp24, encodePgm, encodeWithSharp, noise, pattern } from './fixtures.js';

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

describe('probeImage', () => {
  it('reads format and size from headers of every supported format', async () => {
    const px = noise(20, 12);
    expect(probeImage(await encodeWithSharp(px, 20, 12, 'jpeg'))).toEqual({ format: 'jpeg', width: 20, height: 12 });
    expect(probeImage(await encodeWithSharp(px, 20, 12, 'png'))).toEqual({ format: 'png', width: 20, height: 12 });
    expect(probeImage(encodeBmp24(px, 20, 12))).toEqual({ format: 'bmp', width: 20, height: 12 });
    expect(probeImage(encodePgm(px, 20, 12))).toEqual({ format: 'pnm', width: 20, height: 12 });
    expect(probeImage(Buffer.from('GIF89a'))).toBeNull();
  });
});

describe('decodeImage', () => {
  it('PNG: sharp and the pure-JS decoder return the exact pixels', async () => {
    const px = noise(17, 9, 4);
    const png = await encodeWithSharp(px, 17, 9, 'png');
    for (const dec of ['sharp', 'js'] as const) {
      const img = await decodeImage(png, 'x.png', dec);
      expect([img.width, img.height]).toEqual([17, 9]);
      expect(Buffer.from(img.data).equals(Buffer.from(px))).toBe(true);
    }
  });

  it('JPEG: sharp and jpeg-js agree within IDCT rounding and stay close to the source', async () => {
    const px = pattern(32, 24, 3);
    const jpg = await encodeWithSharp(px, 32, 24, 'jpeg');
    const a = await decodeImage(jpg, 'x.jpg', 'sharp');
    const b = await decodeImage(jpg, 'x.jpg', 'js');
    expect(meanAbsDiff(a.data, b.data)).toBeLessThan(1.5);
    expect(meanAbsDiff(a.data, px)).toBeLessThan(4);
  });

  it('grey JPEG/PNG and RGBA PNG come out as 3-channel RGB (alpha dropped)', async () => {
    const g = noise(8, 8).subarray(0, 64);
    const grey = await sharp(Buffer.from(g), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
    for (const dec of ['sharp', 'js'] as const) {
      const img = await decodeImage(grey, 'g.png', dec);
      for (let i = 0; i < 64; i++) expect([img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]]).toEqual([g[i], g[i], g[i]]);
    }
    const rgba = Buffer.alloc(8 * 8 * 4);
    for (let i = 0; i < 64; i++) rgba.set([i, 2 * i, 3 * i, i % 2 ? 0 : 255], i * 4);
    const png = await sharp(rgba, { raw: { width: 8, height: 8, channels: 4 } }).png().toBuffer();
    for (const dec of ['sharp', 'js'] as const) {
      const img = await decodeImage(png, 'a.png', dec);
      expect(Array.from(img.data.subarray(9, 12))).toEqual([3, 6, 9]);
    }
  });

  it('BMP with a 40-byte and a 124-byte (V5) header decodes to the exact pixels', async () => {
    const px = noise(13, 7, 8); // odd width: rows are padded
    for (const dib of [40, 124] as const) {
      const img = await decodeImage(encodeBmp24(px, 13, 7, dib), 'x.bmp');
      expect([img.width, img.height]).toEqual([13, 7]);
      expect(Buffer.from(img.data).equals(Buffer.from(px))).toBe(true);
    }
  });

  it('PGM P5/P2 and PPM P6 (16-bit too) decode exactly', async () => {
    const g = noise(6, 5, 2).subarray(0, 30);
    for (const ascii of [false, true]) {
      const img = await decodeImage(encodePgm(g, 6, 5, ascii), 'x.pgm');
      expect(Array.from(img.data.filter((_, i) => i % 3 === 1))).toEqual(Array.from(g));
    }
    // 16-bit P6: value v/65535 → round(v·255/65535)
    const head = Buffer.from('P6 2 1 65535\n', 'ascii');
    const body = Buffer.from([0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x7f, 0xff]);
    const img = await decodeImage(Buffer.concat([head, body]), 'x.ppm');
    expect(Array.from(img.data)).toEqual([255, Math.round((0x8000 * 255) / 65535), 0, 0, Math.round((0x0101 * 255) / 65535), Math.round((0x7fff * 255) / 65535)]);
  });

  it('truncated, empty and non-image inputs give one DataError naming the file', async () => {
    const jpg = await encodeWithSharp(pattern(64, 64), 64, 64, 'jpeg');
    const cut = jpg.subarray(0, Math.floor(jpg.length * 0.6));
    for (const dec of ['sharp', 'js'] as const) {
      await expect(decodeImage(cut, 'faces/bob/cut.jpg', dec)).rejects.toThrow(/faces\/bob\/cut\.jpg: cannot decode JPEG .*--skip-bad/);
    }
    await expect(decodeImage(new Uint8Array(0), 'e.png')).rejects.toThrow(/e\.png: the file is empty/);
    await expect(decodeImage(Buffer.from('hello world'), 'h.jpg')).rejects.toThrow(/h\.jpg: not a JPEG\/PNG\/BMP\/PGM image \(first bytes 68 65/);
    await expect(decodeImage(encodePgm(noise(6, 5), 6, 5).subarray(0, 30), 'p.pgm')).rejects.toBeInstanceOf(DataError);
    const bmp = encodeBmp24(noise(8, 8), 8, 8);
    await expect(decodeImage(bmp.subarray(0, 100), 'b.bmp')).rejects.toThrow(/b\.bmp: cannot decode BMP \(truncated BMP/);
  });

  it('encodeImage PNG round-trips exactly through both decoders', async () => {
    const px = noise(11, 11, 6);
    const png = await encodeImage(px, 11, 11, 'png');
    expect(Buffer.from((await decodeImage(png, 'p', 'js')).data).equals(Buffer.from(px))).toBe(true);
  });
});

describe('resizeRgb', () => {
  it('same size without crop is the identity', () => {
    const px = noise(9, 7);
    expect(Buffer.from(resizeRgb(px, 9, 7, 9, 7)).equals(Buffer.from(px))).toBe(true);
  });

  it("'box' down-scaling by an integer factor is the exact block mean (float64 reference)", () => {
    const W = 12;
    const H = 8;
    const f = 4;
    const px = noise(W, H, 12);
    const out = resizeRgb(px, W, H, W / f, H / f, 'box');
    for (let y = 0; y < H / f; y++) {
      for (let x = 0; x < W / f; x++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += px[((y * f + dy) * W + x * f + dx) * 3 + c]!;
          expect(out[(y * (W / f) + x) * 3 + c]).toBe(Math.round(s / (f * f)));
        }
      }
    }
  });

  it("'triangle' up-scaling equals half-pixel-centre bilinear interpolation with clamped edges", () => {
    const W = 5;
    const H = 4;
    const px = noise(W, H, 21);
    const DW = 13;
    const DH = 9;
    const out = resizeRgb(px, W, H, DW, DH, 'triangle');
    const at = (x: number, y: number, c: number) => px[(Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))) * 3 + c]!;
    for (let y = 0; y < DH; y++) {
      for (let x = 0; x < DW; x++) {
        const sx = ((x + 0.5) * W) / DW - 0.5;
        const sy = ((y + 0.5) * H) / DH - 0.5;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        for (let c = 0; c < 3; c++) {
          const v = (1 - fy) * ((1 - fx) * at(x0, y0, c) + fx * at(x0 + 1, y0, c)) + fy * ((1 - fx) * at(x0, y0 + 1, c) + fx * at(x0 + 1, y0 + 1, c));
          expect(Math.abs(out[(y * DW + x) * 3 + c]! - v)).toBeLessThanOrEqual(0.5 + 1e-9);
        }
      }
    }
  });

  it('fitToSquare scales the short side and centre-crops (112×96 → 112×112 keeps the aspect)', () => {
    // left half black, right half white: after a centre crop the split stays in the middle
    const W = 96;
    const H = 112;
    const px = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = W / 2; x < W; x++) px.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const out = fitToSquare({ data: px, width: W, height: H }, 112);
    expect(out.length).toBe(112 * 112 * 3);
    const row = 56 * 112 * 3;
    expect(out[row + 10 * 3]).toBe(0);
    expect(out[row + 100 * 3]).toBe(255);
    expect(Math.abs(out[row + 55 * 3]! - out[row + 56 * 3]!)).toBeGreaterThan(100);
  });
});
