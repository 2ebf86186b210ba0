// facet data convert: write a dataset as an insightface-style RecordIO pair (train.rec + train.idx) that
// arcface_torch's MXFaceDataset (and Facet) reads:
//   key 0            IRHeader flag 2, label [N+1, N+1+C]            (image keys 1..N, identity records after)
//   keys 1..N        IRHeader flag 0, label = class, id = key; encoded image
//   keys N+1..N+C    IRHeader flag 2, label [first key, end key) of identity c
// JPEG/PNG files that already have the target size are copied byte for byte; others (BMP, PGM, other sizes,
// synthetic faces) are decoded, brought to size and re-encoded (JPEG quality 95 by default, as im2rec).
// The class names go to <out>.labels.json so the identities keep their names.

import { readFile, stat } from 'node:fs/promises';
import { DataError } from './errors.js';
import { ImageFolderDataset } from './folder-dataset.js';
import { encodeImage, type EncodeFormat } from './image/encode.js';
import { probeImage } from './image/probe.js';
import { labelMapPathForRec, writeLabelMap } from './label-map.js';
import { openDataset } from './open.js';
import { idxPathFor, packIRRecord, RecordIOWriter } from './recordio.js';
import type { OpenDatasetOptions } from './types.js';

export interface ConvertOptions extends OpenDatasetOptions {
  /** Encoding of images that must be re-encoded (default 'jpeg'). */
  reencode?: EncodeFormat;
  /** JPEG quality of re-encoded images (default 95). */
  quality?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertReport {
  recPath: string;
  idxPath: string;
  labelMapPath: string;
  images: number;
  identities: number;
  /** Images stored as their original bytes. */
  copied: number;
  /** Images decoded and re-encoded. */
  reencoded: number;
  bytes: number;
  seconds: number;
}

/** Convert a folder (root/<identity>/<image>) — or any openDataset source — into an insightface .rec/.idx pair. */
export async function convertFolderToRec(source: string, outRec: string, opts: ConvertOptions = {}): Promise<ConvertReport> {
  const t0 = performance.now();
  if (!/\.rec$/i.test(outRec)) throw new DataError(`${outRec}: the output must end in .rec (its index is written next to it as .idx)`, outRec);
  const ds = await openDataset(source, opts);
  const N = ds.size;
  const C = ds.numClasses;
  // images must be grouped by class for identity records; keep the dataset order within a class
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => ds.labels[a]! - ds.labels[b]! || a - b);
  const writer = await RecordIOWriter.create(outRec);
  let copied = 0;
  let reencoded = 0;
  const starts = new Int32Array(C).fill(-1);
  const ends = new Int32Array(C).fill(-1);
  try {
    await writer.write(0, packIRRecord({ label: [N + 1, N + 1 + C], id: 0 }));
    for (let j = 0; j < N; j++) {
      const i = order[j]!;
      const key = j + 1;
      const label = ds.labels[i]!;
      let payload: Uint8Array | null = null;
      if (ds instanceof ImageFolderDataset) {
        const bytes = await readFile(ds.files[i]!);
        const p = probeImage(bytes);
        if (p && (p.format === 'jpeg' || p.format === 'png') && p.width === ds.imageSize && p.height === ds.imageSize) payload = bytes;
      }
      if (payload) copied++;
      else {
        payload = await encodeImage(await ds.read(i), ds.imageSize, ds.imageSize, opts.reencode ?? 'jpeg', opts.quality ?? 95);
        reencoded++;
      }
      await writer.write(key, packIRRecord({ label, id: key }, payload));
      if (starts[label] === -1) starts[label] = key;
      ends[label] = key + 1;
      opts.onProgress?.(j + 1, N);
    }
    for (let c = 0; c < C; c++) {
      const key = N + 1 + c;
      const s = starts[c] === -1 ? N + 1 : starts[c]!;
      const e = ends[c] === -1 ? N + 1 : ends[c]!;
      await writer.write(key, packIRRecord({ label: [s, e], id: key }));
    }
  } finally {
    await writer.close();
  }
  const labelMapPath = await writeLabelMap(labelMapPathForRec(outRec), { name: ds.name, classNames: ds.classNames });
  return {
    recPath: outRec,
    idxPath: idxPathFor(outRec),
    labelMapPath,
    images: N,
    identities: C,
    copied,
    reencoded,
    bytes: (await stat(outRec)).size,
    seconds: (performance.now() - t0) / 1000,
  };
}
