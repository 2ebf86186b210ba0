// The label map: class index → name (identity folder name), saved next to every model (and next to converted
// .rec files) so an embedding's predicted class can be traced back to a person.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataError, reason } from './errors.js';

/** File name used next to a model: <model-dir>/labels.json. */
export const LABEL_MAP_FILE = 'labels.json';

export interface LabelMap {
  format: 'facet-label-map';
  version: 1;
  /** Where the names came from (dataset path or 'synthetic'). */
  source: string;
  numClasses: number;
  classNames: string[];
}

/** Path of the label map that sits next to a .rec (train.rec → train.labels.json). */
export function labelMapPathForRec(recPath: string): string {
  return recPath.replace(/\.rec$/i, '') + '.labels.json';
}

/** Write a label map; `path` may be a folder (then <folder>/labels.json). Returns the file written. */
export async function writeLabelMap(path: string, ds: { name: string; classNames: string[] }): Promise<string> {
  const file = path.endsWith('.json') ? path : join(path, LABEL_MAP_FILE);
  const map: LabelMap = { format: 'facet-label-map', version: 1, source: ds.name, numClasses: ds.classNames.length, classNames: ds.classNames };
  try {
    await writeFile(file, JSON.stringify(map, null, 1) + '\n');
  } catch (e) {
    throw new DataError(`${file}: cannot write the label map (${reason(e)}); check that ${dirname(file)} exists and is writable`, file);
  }
  return file;
}

/** Read and validate a label map written by writeLabelMap. */
export async function readLabelMap(path: string): Promise<LabelMap> {
  const file = path.endsWith('.json') ? path : join(path, LABEL_MAP_FILE);
  if (!existsSync(file)) throw new DataError(`${file}: no label map here (it is written next to each model and converted .rec)`, file);
  let m: LabelMap;
  try {
    m = JSON.parse(await readFile(file, 'utf8')) as LabelMap;
  } catch (e) {
    throw new DataError(`${file}: not valid JSON (${reason(e)}); restore it from the model folder or regenerate it`, file);
  }
  if (m?.format !== 'facet-label-map' || !Array.isArray(m.classNames) || m.classNames.length !== m.numClasses || m.classNames.some((n) => typeof n !== 'string')) {
    throw new DataError(`${file}: not a Facet label map (expected {format:'facet-label-map', numClasses, classNames[numClasses]})`, file);
  }
  return m;
}
