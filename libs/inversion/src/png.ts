// Normalised image tensors → 8-bit RGB → PNG (pngjs), and a contact sheet of snapshots.
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tf } from '@facet/engine';
import type { PNG as PNGClass } from 'pngjs';

// pngjs is CommonJS and needs Node built-ins: loaded with require so that bundling this lib into an ESM bundle
// (the SDK's) never inlines it (an inlined CJS module fails with "Dynamic require of util is not supported").
const { PNG } = createRequire(import.meta.url)('pngjs') as { PNG: typeof PNGClass };

/** 8-bit RGB pixels, row-major HWC. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** [N, H, W, 3] normalised pixels ((p − 127.5)/127.5) → N RGB images (clamped, rounded). */
export function tensorToRgbImages(x: tf.Tensor4D): RgbImage[] {
  if (x.rank !== 4 || x.shape[3] !== 3) throw new Error(`tensorToRgbImages: expected [N, H, W, 3], got [${x.shape.join(', ')}].`);
  const [n, h, w] = x.shape;
  const v = tf.tidy(() => tf.clipByValue(tf.round(tf.add(tf.mul(x, 127.5), 127.5)), 0, 255).dataSync());
  const out: RgbImage[] = [];
  const per = h * w * 3;
  for (let i = 0; i < n; i++) out.push({ width: w, height: h, data: Uint8Array.from(v.subarray(i * per, (i + 1) * per)) });
  return out;
}

/** Encode RGB pixels as PNG bytes. `scale` > 1 repeats each pixel (nearest neighbour) so small faces stay visible. */
export function encodePng(img: RgbImage, scale = 1): Uint8Array {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`encodePng: scale must be a positive integer, got ${scale}.`);
  const W = img.width * scale;
  const H = img.height * scale;
  const png = new PNG({ width: W, height: H, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  const data = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (Math.floor(y / scale) * img.width + Math.floor(x / scale)) * 3;
      const d = (y * W + x) * 4;
      data[d] = img.data[s]!;
      data[d + 1] = img.data[s + 1]!;
      data[d + 2] = img.data[s + 2]!;
      data[d + 3] = 255;
    }
  }
  png.data = data;
  return PNG.sync.write(png, { colorType: 2 });
}

/** Decode PNG bytes to RGB (alpha dropped). */
export function decodePng(bytes: Uint8Array, source = 'PNG'): RgbImage {
  let png: PNGClass;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new Error(`${source}: not a readable PNG (${(e as Error).message}).`);
  }
  const out = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    out[i * 3] = png.data[i * 4]!;
    out[i * 3 + 1] = png.data[i * 4 + 1]!;
    out[i * 3 + 2] = png.data[i * 4 + 2]!;
  }
  return { width: png.width, height: png.height, data: out };
}

/** Write each image of an [N, H, W, 3] batch as `<prefix><i>.png`; returns the paths. */
export function writeImagePngs(x: tf.Tensor4D, pathOf: (i: number) => string, scale = 1): string[] {
  return tensorToRgbImages(x).map((img, i) => {
    const p = pathOf(i);
    // temp file + rename: a reader never sees half a PNG
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, encodePng(img, scale));
    renameSync(tmp, p);
    return p;
  });
}

export interface ContactSheetOptions {
  /** Pixels between cells (background grey). Default 2. */
  gap?: number;
  /** Background level 0..255. Default 255. */
  background?: number;
}

/**
 * Lay out a grid: `columns[j]` is an [N, H, W, 3] batch (e.g. the snapshots at increasing steps, optionally the
 * target faces first); row i shows image i of every column. Returns one RGB image.
 */
export function contactSheet(columns: tf.Tensor4D[], opts: ContactSheetOptions = {}): RgbImage {
  const gap = opts.gap ?? 2;
  const bg = opts.background ?? 255;
  if (columns.length === 0) throw new Error('contactSheet: no columns.');
  const [n, h, w] = columns[0]!.shape;
  for (const c of columns) {
    if (c.shape[0] !== n || c.shape[1] !== h || c.shape[2] !== w) {
      throw new Error(`contactSheet: every column must be [${n}, ${h}, ${w}, 3]; got [${c.shape.join(', ')}].`);
    }
  }
  const W = columns.length * w + (columns.length + 1) * gap;
  const H = n * h + (n + 1) * gap;
  const data = new Uint8Array(W * H * 3).fill(bg);
  columns.forEach((col, j) => {
    tensorToRgbImages(col).forEach((img, i) => {
      const ox = gap + j * (w + gap);
      const oy = gap + i * (h + gap);
      for (let y = 0; y < h; y++) data.set(img.data.subarray(y * w * 3, (y + 1) * w * 3), ((oy + y) * W + ox) * 3);
    });
  });
  return { width: W, height: H, data };
}
