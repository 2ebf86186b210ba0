// Write any dataset out as an image folder, root/<class name>/<nnnn>.<ext>: `facet data synth` uses it to
// materialise the synthetic set, and it turns a .rec back into browsable files.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, reason } from './errors.js';
import { encodeImage, type EncodeFormat } from './image/encode.js';
import { mapPool } from './pool.js';
import type { FaceDataset } from './types.js';

export interface WriteFolderOptions {
  /** Default 'png' (lossless). */
  format?: EncodeFormat;
  quality?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Write every image of `ds` under outDir; returns the number of files written. */
export async function writeDatasetFolder(ds: FaceDataset, outDir: string, opts: WriteFolderOptions = {}): Promise<number> {
  const format = opts.format ?? 'png';
  const ext = format === 'png' ? 'png' : 'jpg';
  try {
    await mkdir(outDir, { recursive: true });
    for (const name of ds.classNames) await mkdir(join(outDir, name), { recursive: true });
  } catch (e) {
    throw new DataError(`${outDir}: cannot create the output folder (${reason(e)})`, outDir);
  }
  const seen = new Int32Array(ds.numClasses);
  const slot = Int32Array.from(ds.labels, (l) => seen[l]!++);
  const width = Math.max(3, String(Math.max(0, ...seen) - 1).length);
  let done = 0;
  await mapPool(ds.size, 4, async (i) => {
    const img = await ds.read(i);
    const bytes = await encodeImage(img, ds.imageSize, ds.imageSize, format, opts.quality ?? 95);
    await writeFile(join(outDir, ds.classNames[ds.labels[i]!]!, `${String(slot[i]).padStart(width, '0')}.${ext}`), bytes);
    opts.onProgress?.(++done, ds.size);
  });
  return ds.size;
}
