// Bytes → RGB pixels. JPEG/PNG go through sharp (libvips, prebuilt binaries from npm, decodes off the JS thread)
// and fall back to the pure-JS jpeg-js / pngjs when sharp cannot load or `decoder: 'js'` is asked; BMP uses bmp-js
// and PGM/PPM the small Netpbm parser. Alpha is dropped (as OpenCV's IMREAD_COLOR in mx.image.imdecode does) and
// grey images are replicated to RGB. Every failure becomes one DataError that names the file.

import { createRequire } from 'node:module';
import { DataError, reason } from '../errors.js';
import type { DecoderChoice } from '../types.js';
import { decodePnm } from './pnm.js';
import { headHex, sniffFormat } from './probe.js';
import type { RawImage } from './raw-image.js';

const require = createRequire(import.meta.url);

type SharpFn = typeof import('sharp');
let sharpModule: SharpFn | null | undefined;
let sharpLoadError = '';

/** sharp when its native binary loads on this machine, else null (then the pure-JS decoders are used). */
export function loadSharp(): SharpFn | null {
  if (sharpModule !== undefined) return sharpModule;
  try {
    sharpModule = require('sharp') as SharpFn;
    // decoded inputs are not reused, so libvips' operation cache only costs memory
    sharpModule.cache(false);
  } catch (e) {
    sharpModule = null;
    sharpLoadError = reason(e);
  }
  return sharpModule;
}

/** Which JPEG/PNG decoder `choice` resolves to here, and why. */
export function decoderInfo(choice: DecoderChoice = 'auto'): { decoder: 'sharp' | 'js'; note: string } {
  if (choice === 'js') return { decoder: 'js', note: 'pure-JS jpeg-js/pngjs (asked for)' };
  const s = loadSharp();
  if (s) return { decoder: 'sharp', note: `sharp ${s.versions.sharp} / libvips ${s.versions.vips}` };
  if (choice === 'sharp') throw new DataError(`decoder 'sharp' was asked for but sharp does not load here (${sharpLoadError}); use decoder 'auto' or 'js'`);
  return { decoder: 'js', note: `pure-JS jpeg-js/pngjs (sharp unavailable: ${sharpLoadError})` };
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function dropAlpha(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < out.length; i += 3, j += 4) {
    out[i] = rgba[j]!;
    out[i + 1] = rgba[j + 1]!;
    out[i + 2] = rgba[j + 2]!;
  }
  return out;
}

async function decodeWithSharp(sharp: SharpFn, b: Uint8Array): Promise<RawImage> {
  // failOn 'warning' (sharp's default, made explicit): a truncated JPEG is an error, not a half-grey image
  const { data, info } = await sharp(toBuffer(b), { failOn: 'warning' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`sharp returned ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

function decodeJpegJs(b: Uint8Array): RawImage {
  const jpeg = require('jpeg-js') as typeof import('jpeg-js');
  // tolerantDecoding off: missing scan data throws instead of leaving blocks blank
  const img = jpeg.decode(b, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxMemoryUsageInMB: 1024 });
  return { data: img.data, width: img.width, height: img.height };
}

function decodePngJs(b: Uint8Array): RawImage {
  const { PNG } = require('pngjs') as typeof import('pngjs');
  const png = PNG.sync.read(toBuffer(b));
  return { data: dropAlpha(png.data, png.width, png.height), width: png.width, height: png.height };
}

/**
 * bmp-js reads pixel rows right after a 40-byte BITMAPINFOHEADER and its palette and ignores the pixel-data offset,
 * so BMPs with a V4/V5 header (GIMP, Photoshop) or gaps would come out shifted. Rebuild the file with a 40-byte
 * header before handing it over.
 */
function decodeBmp(b: Uint8Array): RawImage {
  const buf = toBuffer(b);
  if (buf.length < 54) throw new Error('truncated BMP header');
  const dib = buf.readUInt32LE(14);
  if (dib < 40) throw new Error(`unsupported BMP header (${dib} bytes, OS/2 bitmap); convert it to PNG`);
  const offset = buf.readUInt32LE(10);
  const bpp = buf.readUInt16LE(28);
  const compression = buf.readUInt32LE(30);
  const width = buf.readInt32LE(18);
  const height = Math.abs(buf.readInt32LE(22));
  if (![1, 4, 8, 24, 32].includes(bpp) || !(compression === 0 || (compression === 1 && bpp === 8) || (compression === 2 && bpp === 4) || (compression === 3 && bpp === 32))) {
    throw new Error(`unsupported BMP variant (${bpp} bit, compression ${compression}); convert it to PNG`);
  }
  const colors = buf.readUInt32LE(46);
  const paletteBytes = bpp <= 8 ? (colors || 1 << bpp) * 4 : 0;
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (compression === 0 && buf.length < offset + rowBytes * height) {
    throw new Error(`truncated BMP: ${buf.length} bytes, pixel data needs ${offset + rowBytes * height}`);
  }
  const fixed = Buffer.concat([
    buf.subarray(0, 54),
    buf.subarray(14 + dib, 14 + dib + paletteBytes),
    buf.subarray(offset),
  ]);
  fixed.writeUInt32LE(40, 14);
  fixed.writeUInt32LE(54 + paletteBytes, 10);
  const bmp = require('bmp-js') as { decode(b: Buffer): { data: Buffer; width: number; height: number } };
  const img = bmp.decode(fixed);
  // bmp-js returns A,B,G,R per pixel
  const out = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; i < out.length; i += 3, j += 4) {
    out[i] = img.data[j + 3]!;
    out[i + 1] = img.data[j + 2]!;
    out[i + 2] = img.data[j + 1]!;
  }
  return { data: out, width: img.width, height: img.height };
}

const FORMAT_NAMES = { jpeg: 'JPEG', png: 'PNG', bmp: 'BMP', pnm: 'PGM/PPM' } as const;

/** Decode an encoded image to RGB uint8 (any size). `source` names the file in error messages. */
export async function decodeImage(b: Uint8Array, source: string, decoder: DecoderChoice = 'auto'): Promise<RawImage> {
  const format = sniffFormat(b);
  if (!format) {
    const what = b.length === 0 ? 'the file is empty' : `not a JPEG/PNG/BMP/PGM image (first bytes ${headHex(b)})`;
    throw new DataError(`${source}: ${what}. Delete or replace it, or pass --skip-bad to skip unreadable files.`, source, what);
  }
  try {
    let img: RawImage;
    if (format === 'bmp') img = decodeBmp(b);
    else if (format === 'pnm') img = decodePnm(b);
    else {
      const sharp = decoder === 'js' ? null : loadSharp();
      if (decoder === 'sharp' && !sharp) decoderInfo('sharp');
      if (sharp) img = await decodeWithSharp(sharp, b);
      else img = format === 'jpeg' ? decodeJpegJs(b) : decodePngJs(b);
    }
    if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
      throw new Error(`decoder returned ${img.data.length} bytes for ${img.width}×${img.height}`);
    }
    return img;
  } catch (e) {
    if (e instanceof DataError) throw e;
    const detail = `cannot decode ${FORMAT_NAMES[format]} (${reason(e)})`;
    throw new DataError(`${source}: ${detail}; the file is corrupt or truncated. Re-export or delete it, or pass --skip-bad to skip unreadable files.`, source, detail);
  }
}
