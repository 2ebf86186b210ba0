// Test fixtures written with independent, hand-rolled encoders (BMP, PGM) or sharp (JPEG/PNG).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

export function tmpDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `facet-data-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic test pattern: smooth gradients plus a per-seed offset (JPEG-friendly). */
export function pattern(w: number, h: number, seed = 0): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      out[o] = (x * 2 + seed * 37) % 256;
      out[o + 1] = (y * 2 + seed * 91) % 256;
      out[o + 2] = ((x + y) + seed * 53) % 256;
    }
  }
  return out;
}

/** Pseudo-random pixels (lossless formats only). */
export function noise(w: number, h: number, seed = 1): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

export async function encodeWithSharp(rgb: Uint8Array, w: number, h: number, format: 'png' | 'jpeg'): Promise<Buffer> {
  const img = sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
}

/** 24-bit BMP, bottom-up rows padded to 4 bytes; header size 40 (BITMAPINFOHEADER) or 124 (V5, GIMP-style). */
export function encodeBmp24(rgb: Uint8Array, w: number, h: number, dibSize: 40 | 124 = 40): Uint8Array {
  const rowBytes = Math.ceil((w * 3) / 4) * 4;
  const offset = 14 + dibSize;
  const buf = Buffer.alloc(offset + rowBytes * h);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset, 10);
  buf.writeUInt32LE(dibSize, 14);
  buf.writeInt32LE(w, 18);
  buf.writeInt32LE(h, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(0, 30);
  buf.writeUInt32LE(rowBytes * h, 34);
  for (let y = 0; y < h; y++) {
    const row = offset + (h - 1 - y) * rowBytes;
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      buf[row + x * 3] = rgb[s + 2]!;
      buf[row + x * 3 + 1] = rgb[s + 1]!;
      buf[row + x * 3 + 2] = rgb[s]!;
    }
  }
  return buf;
}

/** Binary (P5) or ASCII (P2) PGM of the first channel. */
export function encodePgm(gray: Uint8Array, w: number, h: number, ascii = false): Uint8Array {
  if (ascii) {
    const rows: string[] = [];
    for (let y = 0; y < h; y++) rows.push(Array.from(gray.subarray(y * w, (y + 1) * w)).join(' '));
    return Buffer.from(`P2\n# test\n${w} ${h}\n255\n${rows.join('\n')}\n`, 'ascii');
  }
  return Buffer.concat([Buffer.from(`P5\n# test\n${w} ${h}\n255\n`, 'ascii'), Buffer.from(gray)]);
}

export function writeFile(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/**
 * A small identity folder: alice (3 PNG), bob (2 JPEG + 1 BMP), carol (1 PGM + 1 PNG), plus a notes.txt.
 * Returns the pixel arrays written for lossless files (keyed by relative path).
 */
export async function makeFolderFixture(root: string, size = 16): Promise<Map<string, Uint8Array>> {
  const lossless = new Map<string, Uint8Array>();
  for (let i = 0; i < 3; i++) {
    const px = noise(size, size, 10 + i);
    writeFile(join(root, 'alice', `a${i}.png`), await encodeWithSharp(px, size, size, 'png'));
    lossless.set(`alice/a${i}.png`, px);
  }
  for (let i = 0; i < 2; i++) writeFile(join(root, 'bob', `b${i}.jpg`), await encodeWithSharp(pattern(size, size, i), size, size, 'jpeg'));
  const bmpPx = noise(size, size, 33);
  writeFile(join(root, 'bob', 'b2.bmp'), encodeBmp24(bmpPx, size, size));
  lossless.set('bob/b2.bmp', bmpPx);
  const g = noise(size, size, 44).subarray(0, size * size);
  writeFile(join(root, 'carol', 'c0.pgm'), encodePgm(g, size, size));
  const gRgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) gRgb[i * 3] = gRgb[i * 3 + 1] = gRgb[i * 3 + 2] = g[i]!;
  lossless.set('carol/c0.pgm', gRgb);
  const cPx = noise(size, size, 55);
  writeFile(join(root, 'carol', 'sub', 'c1.png'), await encodeWithSharp(cPx, size, size, 'png'));
  lossless.set('carol/sub/c1.png', cPx);
  writeFile(join(root, 'carol', 'notes.txt'), 'not an image');
  return lossless;
}
