// What a model needs to score quality, stored next to its backbone checkpoint as <modelDir>/quality.json: the UI
// centre (how it was built), and the RI regression head when the model was trained with --recognizability.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@facet/plot';
import type { RecognizabilityHeadWeights } from './recognizability-head.js';
import { resolveIndexOptions, type RecognizabilityIndexOptions } from './recognizability-index.js';

export const QUALITY_MODEL_FILE = 'quality.json';
export const QUALITY_MODEL_FORMAT = 'facet-quality';
export const QUALITY_MODEL_VERSION = 1;

export interface QualityModel {
  embeddingSize: number;
  /** Unit UI centre f_UI [D]. */
  uiCenter?: Float32Array;
  /** Mean 1 − cos(v, f_UI) of the UI images (the UI cluster's radius). */
  uiRadius?: number;
  /** Where the centre came from ('folder …', 'degraded …', 'training'). */
  uiSource?: string;
  /** Number of images the centre averages. */
  uiCount?: number;
  /** RI regression head ξ̂ = [v/√D, ‖v‖/√D]·w + b on the raw embedding. */
  head?: RecognizabilityHeadWeights;
  /** RI constants used for the training target. */
  index?: Required<RecognizabilityIndexOptions>;
}

/** Write <modelDir>/quality.json (atomically); returns its path. */
export function saveQualityModel(modelDir: string, q: QualityModel): string {
  if (!existsSync(join(modelDir, 'manifest.json'))) throw new Error(`saveQualityModel: ${modelDir} is not a model folder (no manifest.json); pass the model/ folder of a run.`);
  checkModel(q, 'saveQualityModel');
  const path = join(modelDir, QUALITY_MODEL_FILE);
  const json = {
    format: QUALITY_MODEL_FORMAT,
    formatVersion: QUALITY_MODEL_VERSION,
    embeddingSize: q.embeddingSize,
    ...(q.uiCenter ? { uiCenter: Array.from(q.uiCenter) } : {}),
    ...(q.uiRadius !== undefined ? { uiRadius: q.uiRadius } : {}),
    ...(q.uiSource !== undefined ? { uiSource: q.uiSource } : {}),
    ...(q.uiCount !== undefined ? { uiCount: q.uiCount } : {}),
    ...(q.head ? { head: q.head } : {}),
    ...(q.index ? { index: q.index } : {}),
    createdAt: new Date().toISOString(),
  };
  writeFileAtomic(path, JSON.stringify(json, null, 1) + '\n');
  return path;
}

/** Read <modelDir>/quality.json; undefined when the model has none. */
export function readQualityModel(modelDir: string): QualityModel | undefined {
  const path = join(modelDir, QUALITY_MODEL_FILE);
  if (!existsSync(path)) return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message}); delete it and rebuild the UI centre with facet quality --save-ui.`);
  }
  if (raw.format !== QUALITY_MODEL_FORMAT) throw new Error(`${path}: format is ${JSON.stringify(raw.format)}, expected "${QUALITY_MODEL_FORMAT}".`);
  if (raw.formatVersion !== QUALITY_MODEL_VERSION) throw new Error(`${path}: formatVersion ${String(raw.formatVersion)} is not supported (this Facet reads ${QUALITY_MODEL_VERSION}).`);
  const q: QualityModel = {
    embeddingSize: raw.embeddingSize as number,
    ...(Array.isArray(raw.uiCenter) ? { uiCenter: Float32Array.from(raw.uiCenter as number[]) } : {}),
    ...(typeof raw.uiRadius === 'number' ? { uiRadius: raw.uiRadius } : {}),
    ...(typeof raw.uiSource === 'string' ? { uiSource: raw.uiSource } : {}),
    ...(typeof raw.uiCount === 'number' ? { uiCount: raw.uiCount } : {}),
    ...(raw.head ? { head: raw.head as RecognizabilityHeadWeights } : {}),
    ...(raw.index ? { index: resolveIndexOptions(raw.index as RecognizabilityIndexOptions, path) } : {}),
  };
  checkModel(q, path);
  return q;
}

function checkModel(q: QualityModel, where: string): void {
  const d = q.embeddingSize;
  if (!Number.isInteger(d) || d < 1) throw new Error(`${where}: embeddingSize must be a positive integer (got ${String(d)}).`);
  if (q.uiCenter && (q.uiCenter.length !== d || !q.uiCenter.every(Number.isFinite))) throw new Error(`${where}: uiCenter must hold ${d} finite numbers.`);
  if (q.head) {
    const h = q.head;
    if (h.embeddingSize !== d || !Array.isArray(h.weight) || h.weight.length !== d + 1 || !h.weight.every(Number.isFinite) || !Number.isFinite(h.bias)) {
      throw new Error(`${where}: head must be { embeddingSize: ${d}, weight: ${d + 1} numbers, bias: number }.`);
    }
  }
}
