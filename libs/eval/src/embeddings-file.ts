import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '@facet/plot';
import { readNpy, writeNpy } from './npy.js';

/** What `facet embed` writes beside the .npy (same base name, .json). */
export interface EmbeddingsMeta {
  /** Image path of each row (relative to the images folder). */
  paths?: string[];
  /** Integer identity label of each row. */
  labels?: number[];
  /** Identity name of each label (labels index into it). */
  classes?: string[];
  /** Free-form provenance: model, flip, date… */
  [key: string]: unknown;
}

export interface EmbeddingsFile {
  embeddings: Float32Array;
  count: number;
  dim: number;
  meta: EmbeddingsMeta | undefined;
}

/** `<base>.json` beside `<base>.npy`. */
export function embeddingsMetaPath(npyPath: string): string {
  return npyPath.replace(/\.npy$/i, '') + '.json';
}

/** Write [count, dim] embeddings as .npy and their metadata as the sibling .json. Returns both paths. */
export function writeEmbeddings(npyPath: string, embeddings: Float32Array, dim: number, meta: EmbeddingsMeta = {}): { npy: string; json: string } {
  if (!/\.npy$/i.test(npyPath)) throw new Error(`embeddings output ${npyPath} must end in .npy.`);
  const count = embeddings.length / dim;
  if (!Number.isInteger(count)) throw new Error(`writeEmbeddings: ${embeddings.length} values are not whole ${dim}-d rows.`);
  for (const key of ['paths', 'labels'] as const) {
    const v = meta[key];
    if (v && v.length !== count) throw new Error(`writeEmbeddings: ${v.length} ${key} for ${count} embeddings; pass one per row.`);
  }
  writeNpy(npyPath, embeddings, [count, dim]);
  const json = embeddingsMetaPath(npyPath);
  writeFileAtomic(json, JSON.stringify({ count, dim, ...meta }, null, 1) + '\n');
  return { npy: npyPath, json };
}

/** Read a 2-D .npy of embeddings and, if present, its metadata (`metaPath` or the sibling .json). */
export function readEmbeddings(npyPath: string, metaPath?: string): EmbeddingsFile {
  const { data, shape } = readNpy(npyPath);
  if (shape.length !== 2) {
    throw new Error(`${npyPath} has shape (${shape.join(', ')}); embeddings must be 2-D (count, dim): reshape with array.reshape(len(array), -1).`);
  }
  const [count, dim] = shape as [number, number];
  const jsonPath = metaPath ?? embeddingsMetaPath(npyPath);
  let meta: EmbeddingsMeta | undefined;
  if (metaPath || existsSync(jsonPath)) {
    try {
      meta = JSON.parse(readFileSync(jsonPath, 'utf8')) as EmbeddingsMeta;
    } catch (err) {
      throw new Error(`cannot read embeddings metadata ${jsonPath}: ${(err as Error).message}`);
    }
    if (meta.labels && meta.labels.length !== count) {
      throw new Error(`${jsonPath} has ${meta.labels.length} labels but ${npyPath} has ${count} rows; they must match.`);
    }
  }
  return { embeddings: data, count, dim, meta };
}
