// One entry point for training data: a folder (root/<identity>/<image>), an insightface .rec (or a folder holding
// train.rec + train.idx, as arcface_torch's get_dataloader picks), or 'synthetic[:key=value,...]'.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { ImageFolderDataset } from './folder-dataset.js';
import { RecordIODataset } from './rec-dataset.js';
import { idxPathFor } from './recordio.js';
import { parseSyntheticSource, SyntheticFaceDataset } from './synthetic/dataset.js';
import type { DatasetDescriptor, FaceDataset, OpenDatasetOptions } from './types.js';

export type DatasetKind = 'folder' | 'rec' | 'synthetic';

/** Which reader `source` goes to, and the path it resolves to (train.rec inside a folder). */
export function resolveSource(source: string): { kind: DatasetKind; path: string } {
  if (typeof source !== 'string' || !source.trim()) throw new DataError(`dataset source is empty; pass a folder, a .rec file or 'synthetic'`);
  if (parseSyntheticSource(source)) return { kind: 'synthetic', path: source };
  if (/\.rec$/i.test(source)) return { kind: 'rec', path: source };
  if (/\.idx$/i.test(source)) return { kind: 'rec', path: source.replace(/\.idx$/i, '.rec') };
  if (/\.bin$/i.test(source)) {
    throw new DataError(`${source}: is a verification set (.bin pairs), not training data. Evaluate on it (loadBin / facet eval) and train on a folder or .rec.`, source);
  }
  if (existsSync(source) && statSync(source).isDirectory() && existsSync(join(source, 'train.rec'))) {
    return { kind: 'rec', path: join(source, 'train.rec') };
  }
  return { kind: 'folder', path: source };
}

/** Open training data; see OpenDatasetOptions for imageSize / strict / skipBad / check / onWarning. */
export async function openDataset(source: string, opts: OpenDatasetOptions = {}): Promise<FaceDataset> {
  if (opts.imageSize !== undefined && (!Number.isInteger(opts.imageSize) || opts.imageSize < 8 || opts.imageSize > 1024)) {
    throw new DataError(`imageSize must be an integer in [8, 1024], got ${opts.imageSize}`);
  }
  const { kind, path } = resolveSource(source);
  if (kind === 'synthetic') {
    const o = parseSyntheticSource(source)!;
    if (opts.imageSize !== undefined && o.imageSize === undefined) o.imageSize = opts.imageSize;
    return new SyntheticFaceDataset(o);
  }
  if (kind === 'rec') {
    if (!existsSync(path)) throw new DataError(`${path}: no such file. Pass an insightface train.rec (with train.idx next to it).`, path);
    if (!existsSync(idxPathFor(path)) && path.endsWith('train.rec') && source !== path) {
      throw new DataError(`${idxPathFor(path)}: missing next to ${path}; copy it from the dataset archive or rebuild it with \`facet data reindex ${path}\``, path);
    }
    return RecordIODataset.open(path, opts);
  }
  return ImageFolderDataset.open(path, opts);
}

/** Re-open a dataset in another thread from its descriptor (no rescanning, no checks). */
export async function openFromDescriptor(d: DatasetDescriptor): Promise<FaceDataset> {
  if (d.kind === 'synthetic') return new SyntheticFaceDataset(d.options);
  if (d.kind === 'folder') return new ImageFolderDataset(d.name, d.files, d.labels, d.classNames, d.imageSize, d.decoder, d.strict);
  return RecordIODataset.fromDescriptor(d);
}
