// Files → upright RGB pixels for detection and alignment. sharp (libvips) decodes and applies the EXIF orientation
// (`rotate()` with no angle), so a phone photo stored sideways is aligned the way it is seen; grey images become RGB
// and alpha is dropped, as @facet/data's decoder and OpenCV's IMREAD_COLOR (insightface reads with cv2.imread) do.
// BMP and PGM/PPM, and everything when sharp does not load, go through @facet/data's decoders (no EXIF orientation then).

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { decodeImage, encodeImage, probeImage, type RawImage } from '@facet/data';
import { AlignError, reason } from './errors.js';

const require = createRequire(import.meta.url);
type SharpFn = typeof import('sharp');
let sharpModule: SharpFn | null | undefined;

function loadSharp(): SharpFn | null {
  if (sharpModule !== undefined) return sharpModule;
  try {
    sharpModule = require('sharp') as SharpFn;
  } catch {
    sharpModule = null;
  }
  return sharpModule;
}

export interface ImageLimits {
  /** Smallest side accepted, px: below it no face can be found (face-api's landmark net works on 112² crops). */
  minSide?: number;
  /** Largest image accepted, in pixels (width × height); default 100 MP, about 400 MB as RGB. */
  maxPixels?: number;
}

export const DEFAULT_MIN_SIDE = 32;
export const DEFAULT_MAX_PIXELS = 100e6;

/** What `detectFaces`/`alignImage` accept: decoded RGB pixels, encoded bytes, or a path. */
export type ImageInput = RawImage | Uint8Array | string;

function checkSize(width: number, height: number, source: string, limits: ImageLimits): void {
  const minSide = limits.minSide ?? DEFAULT_MIN_SIDE;
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (Math.min(width, height) < minSide) {
    const detail = `image is ${width}×${height} px, too small to find a face in (the shorter side must be ≥ ${minSide} px)`;
    throw new AlignError(`${source}: ${detail}. Use the original photo, not a thumbnail.`, source, detail);
  }
  if (width * height > maxPixels) {
    const detail = `image is ${width}×${height} px (${((width * height) / 1e6).toFixed(0)} MP), over the ${(maxPixels / 1e6).toFixed(0)} MP limit`;
    throw new AlignError(`${source}: ${detail}. Downscale it first, or raise maxPixels (--max-pixels).`, source, detail);
  }
}

/** Decode bytes to upright RGB, checking the size from the header before any pixel is decoded. */
export async function decodeUpright(bytes: Uint8Array, source: string, limits: ImageLimits = {}): Promise<RawImage> {
  const sharp = loadSharp();
  const probe = probeImage(bytes);
  // sharp's libvips reads neither BMP nor PGM/PPM: @facet/data's decoders do (these formats carry no EXIF orientation)
  if (!sharp || probe?.format === 'bmp' || probe?.format === 'pnm') {
    if (probe?.width && probe?.height) checkSize(probe.width, probe.height, source, limits);
    const img = await decodeImage(bytes, source, sharp ? 'auto' : 'js').catch((e: unknown) => {
      throw new AlignError(e instanceof Error ? e.message : String(e), source, reason(e));
    });
    checkSize(img.width, img.height, source, limits);
    return img;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: import('sharp').Metadata;
  try {
    // limitInputPixels off here: our own limit below gives the clearer message
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    const detail = bytes.length === 0 ? 'the file is empty' : `not a readable image (${reason(e)})`;
    throw new AlignError(`${source}: ${detail}. Delete or replace it.`, source, detail);
  }
  // EXIF orientations 5–8 swap width and height
  const swap = (meta.orientation ?? 1) >= 5;
  const w = swap ? meta.height : meta.width;
  const h = swap ? meta.width : meta.height;
  if (!w || !h) throw new AlignError(`${source}: the image header has no size. Delete or replace it.`, source, 'no size in the header');
  checkSize(w, h, source, limits);
  try {
    const { data, info } = await sharp(buf, { failOn: 'warning', limitInputPixels: false })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`sharp returned ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    const detail = `cannot decode (${reason(e)}); the file is corrupt or truncated`;
    throw new AlignError(`${source}: ${detail}. Re-export or delete it.`, source, detail);
  }
}

/** Any accepted input as upright RGB pixels. */
export async function toRawImage(input: ImageInput, limits: ImageLimits = {}, source = 'image'): Promise<RawImage> {
  if (typeof input === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an image' : reason(e);
      throw new AlignError(`${input}: ${detail}.`, input, detail);
    }
    return decodeUpright(bytes, input, limits);
  }
  if (input instanceof Uint8Array) return decodeUpright(input, source, limits);
  if (!(input.width > 0 && input.height > 0) || input.data.length !== input.width * input.height * 3) {
    throw new AlignError(`${source}: RGB pixels must be width×height×3 bytes (got ${input.data.length} for ${input.width}×${input.height}).`, source, 'bad RGB buffer');
  }
  checkSize(input.width, input.height, source, limits);
  return input;
}

/** RGB → PNG bytes (lossless: crops are training data), through @facet/data's encoder (sharp or pngjs). */
export function encodePng(img: RawImage): Promise<Uint8Array> {
  return encodeImage(img.data, img.width, img.height, 'png');
}
