// Netpbm decoder (PGM P2/P5, PPM P3/P6). No maintained npm decoder exists for these, and the format is a few lines:
// a text header "P5 <w> <h> <maxval>" then samples (1 byte when maxval < 256, else 2 bytes big-endian, or ASCII).

import { pnmHeader } from './probe.js';
import type { RawImage } from './raw-image.js';

export function decodePnm(b: Uint8Array): RawImage {
  const h = pnmHeader(b);
  if (!h) throw new Error('bad PGM/PPM header (expected "P2|P3|P5|P6 width height maxval")');
  const { magic, width, height, maxval } = h;
  if (width <= 0 || height <= 0 || width > 65535 || height > 65535) throw new Error(`bad PGM/PPM size ${width}×${height}`);
  if (maxval <= 0 || maxval > 65535) throw new Error(`bad PGM/PPM maxval ${maxval}`);
  const channels = magic === 'P2' || magic === 'P5' ? 1 : 3;
  const count = width * height * channels;
  const samples = new Uint16Array(count);
  if (magic === 'P5' || magic === 'P6') {
    const bytes = maxval < 256 ? 1 : 2;
    const need = h.dataOffset + count * bytes;
    if (b.length < need) throw new Error(`truncated PGM/PPM: ${b.length} bytes, header says ${need}`);
    for (let i = 0, p = h.dataOffset; i < count; i++, p += bytes) samples[i] = bytes === 1 ? b[p]! : (b[p]! << 8) | b[p + 1]!;
  } else {
    let p = h.dataOffset - 1;
    for (let i = 0; i < count; i++) {
      while (p < b.length && (b[p] === 0x20 || b[p] === 0x0a || b[p] === 0x0d || b[p] === 0x09 || b[p] === 0x23)) {
        if (b[p] === 0x23) while (p < b.length && b[p] !== 0x0a) p++;
        else p++;
      }
      if (p >= b.length || b[p]! < 0x30 || b[p]! > 0x39) throw new Error(`truncated PGM/PPM: ${i} of ${count} samples`);
      let v = 0;
      while (p < b.length && b[p]! >= 0x30 && b[p]! <= 0x39) v = v * 10 + (b[p++]! - 0x30);
      samples[i] = v;
    }
  }
  const data = new Uint8Array(width * height * 3);
  const scale = 255 / maxval;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const s = samples[channels === 1 ? i : i * 3 + c]!;
      data[i * 3 + c] = Math.min(255, Math.round(s * scale));
    }
  }
  return { data, width, height };
}
