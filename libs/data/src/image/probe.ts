// Cheap format sniffing and size reading from the first bytes of an image file (no pixel decode), used to scan a
// folder quickly, warn once about sizes, and reject non-images before a decoder sees them.

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'pnm';

export interface ImageProbe {
  format: ImageFormat;
  /** Absent when the header was not within the bytes given (read more, or decode). */
  width?: number;
  height?: number;
}

/** File extensions treated as images in a folder dataset. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.pgm', '.ppm', '.pnm'];

export function sniffFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 2 && b[0] === 0x50 && (b[1] === 0x32 || b[1] === 0x35 || b[1] === 0x33 || b[1] === 0x36)) return 'pnm';
  return null;
}

const u16be = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const i32le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);

/** Walk JPEG markers to the first SOFn segment (baseline, progressive, lossless...). */
function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return undefined; // lost sync: corrupt header
    while (b[p] === 0xff && p < b.length) p++;
    const m = b[p++]!;
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // standalone markers
    if (m === 0xd9 || m === 0xda) return undefined; // EOI / start of scan before any frame header
    if (p + 2 > b.length) return undefined;
    const len = u16be(b, p);
    const isSof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (isSof) {
      if (p + 7 > b.length) return undefined;
      return { height: u16be(b, p + 3), width: u16be(b, p + 5) };
    }
    p += len;
  }
  return undefined;
}

/** Parse the whitespace/comment separated header tokens of a PNM (P2/P3/P5/P6) file. */
export function pnmHeader(b: Uint8Array): { magic: string; width: number; height: number; maxval: number; dataOffset: number } | undefined {
  const tokens: number[] = [];
  let p = 2;
  while (tokens.length < 3 && p < b.length) {
    const c = b[p]!;
    if (c === 0x23) {
      while (p < b.length && b[p] !== 0x0a && b[p] !== 0x0d) p++; // comment to end of line
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      p++;
    } else if (c >= 0x30 && c <= 0x39) {
      let v = 0;
      while (p < b.length && b[p]! >= 0x30 && b[p]! <= 0x39) v = v * 10 + (b[p++]! - 0x30);
      tokens.push(v);
    } else {
      return undefined;
    }
  }
  if (tokens.length < 3 || p >= b.length) return undefined;
  // exactly one whitespace byte separates maxval from binary data
  return { magic: String.fromCharCode(b[0]!, b[1]!), width: tokens[0]!, height: tokens[1]!, maxval: tokens[2]!, dataOffset: p + 1 };
}

/** Format and, when the header fits in `b`, pixel size; null when the bytes are not a supported image format. */
export function probeImage(b: Uint8Array): ImageProbe | null {
  const format = sniffFormat(b);
  if (!format) return null;
  let size: { width: number; height: number } | undefined;
  if (format === 'jpeg') size = jpegSize(b);
  else if (format === 'png') size = b.length >= 24 ? { width: u32be(b, 16), height: u32be(b, 20) } : undefined;
  else if (format === 'bmp') {
    if (b.length >= 26) {
      const dib = u16le(b, 14);
      size = dib === 12 ? { width: u16le(b, 18), height: u16le(b, 20) } : { width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
    }
  } else {
    const h = pnmHeader(b);
    if (h) size = { width: h.width, height: h.height };
  }
  return size ? { format, ...size } : { format };
}

/** First bytes as hex, for "this is not an image" messages. */
export function headHex(b: Uint8Array, n = 8): string {
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(' ');
}
