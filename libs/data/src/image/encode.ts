// RGB pixels → PNG/JPEG bytes (for `facet data synth`, `.bin` writing and `convert` re-encoding).

import { createRequire } from 'node:module';
import { loadSharp } from './decode.js';

const require = createRequire(import.meta.url);

export type EncodeFormat = 'png' | 'jpeg';

/** Encode RGB uint8 HWC. PNG is lossless; JPEG uses `quality` (insightface's im2rec docs use 95–100). */
export async function encodeImage(rgb: Uint8Array, width: number, height: number, format: EncodeFormat = 'png', quality = 95): Promise<Uint8Array> {
  const sharp = loadSharp();
  if (sharp) {
    const img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
    const buf = format === 'png' ? await img.png({ compressionLevel: 6 }).toBuffer() : await img.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  if (format === 'png') {
    const { PNG } = require('pngjs') as typeof import('pngjs');
    const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
    png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
    return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
  }
  const jpeg = require('jpeg-js') as typeof import('jpeg-js');
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i]!;
    rgba[j + 1] = rgb[i + 1]!;
    rgba[j + 2] = rgb[i + 2]!;
    rgba[j + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width, height }, quality).data);
}
