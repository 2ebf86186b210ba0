// Dataset and validation-set specs of a training config → data-lib objects.
import { HELD_OUT_IDENTITY_OFFSET, BatchLoader, SyntheticFaceDataset, loadBin, loadPairs, openDataset, syntheticVerificationSet, type AugmentOptions, type FaceDataset, type VerificationSet } from '@facet/data';
import { readCleanList } from '@facet/heads';
import type { TrainConfig } from './config.js';

/** 'name:key=value,key=value' → { name, params }. */
export function parseSpec(spec: string): { name: string; params: Record<string, string> } {
  const i = spec.indexOf(':');
  if (i < 0 || /^[a-zA-Z]:[\\/]/.test(spec)) return { name: spec, params: {} };
  const params: Record<string, string> = {};
  for (const kv of spec.slice(i + 1).split(',').filter(Boolean)) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new Error(`dataset spec "${spec}": expected key=value pairs after ':', got "${kv}"`);
    params[k.trim()] = v.trim();
  }
  return { name: spec.slice(0, i), params };
}

function int(params: Record<string, string>, key: string, fallback: number, spec: string): number {
  if (params[key] === undefined) return fallback;
  const n = Number(params[key]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`dataset spec "${spec}": ${key} must be a non-negative integer (got ${params[key]})`);
  return n;
}

const SYNTHETIC_KEYS = new Set(['identities', 'images', 'seed', 'nuisance', 'offset']);

export async function openTrainingDataset(cfg: TrainConfig, onWarning: (m: string) => void): Promise<FaceDataset> {
  const { name, params } = parseSpec(cfg.dataset);
  if (name === 'synthetic') {
    for (const k of Object.keys(params)) {
      if (!SYNTHETIC_KEYS.has(k)) throw new Error(`dataset "${cfg.dataset}": unknown key ${k}; use ${[...SYNTHETIC_KEYS].join(', ')}`);
    }
    return new SyntheticFaceDataset({
      identities: int(params, 'identities', 100, cfg.dataset),
      imagesPerIdentity: int(params, 'images', 20, cfg.dataset),
      seed: int(params, 'seed', 0, cfg.dataset),
      identityOffset: int(params, 'offset', 0, cfg.dataset),
      nuisance: params.nuisance === undefined ? 1 : Number(params.nuisance),
      imageSize: cfg.inputSize,
    });
  }
  return openDataset(cfg.dataset, { imageSize: cfg.inputSize, onWarning });
}


export async function openValidationSet(spec: string, cfg: TrainConfig): Promise<VerificationSet> {
  const { name, params } = parseSpec(spec);
  if (name === 'synthetic-val') {
    return syntheticVerificationSet({
      identities: int(params, 'identities', 40, spec),
      imagesPerIdentity: int(params, 'images', 10, spec),
      pairs: int(params, 'pairs', 600, spec),
      seed: int(params, 'seed', 1, spec),
      identityOffset: int(params, 'offset', HELD_OUT_IDENTITY_OFFSET, spec),
      imageSize: cfg.inputSize,
    });
  }
  if (spec.includes('@')) {
    const [pairs, root] = spec.split('@') as [string, string];
    return loadPairs(pairs, root);
  }
  if (spec.endsWith('.bin')) return loadBin(spec);
  throw new Error(`valTargets: "${spec}" is not a .bin file, 'pairs.txt@image-root' or 'synthetic-val[:identities=..,pairs=..]'`);
}

export function augmentFor(cfg: TrainConfig): AugmentOptions | false {
  switch (cfg.augment) {
    case 'none':
      return false;
    case 'flip':
      return { flip: true };
    case 'strong':
      return {
        flip: true,
        randomResizedCrop: { scale: [0.6, 1], ratio: [0.8, 1.25] },
        colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4 },
        blur: { sigma: [0.1, 2], p: 0.3 },
        grayscale: 0.2,
      };
    case 'lowres':
      return { flip: true, downscale: { minSize: 8, maxSize: 32, p: 0.5 } };
  }
}

/** Dataset indices named by a keep list (`facet clean` output); every listed item must exist. */
export function keepIndices(ds: FaceDataset, listPath: string): Int32Array {
  const wanted = readCleanList(listPath);
  const byName = new Map<string, number>();
  for (let i = 0; i < ds.size; i++) byName.set(ds.describe(i), i);
  const out = new Int32Array(wanted.length);
  wanted.forEach((w, j) => {
    const i = byName.get(w);
    if (i === undefined) throw new Error(`keepList ${listPath}: line ${j + 1} names "${w}", which is not in dataset ${ds.name}; the list must come from the same dataset`);
    out[j] = i;
  });
  return out;
}

export function makeLoader(ds: FaceDataset, cfg: TrainConfig, twoViews: boolean): BatchLoader {
  return new BatchLoader(ds, {
    indices: cfg.keepList ? keepIndices(ds, cfg.keepList) : undefined,
    batchSize: cfg.batchSize,
    seed: cfg.seed,
    shuffle: true,
    dropLast: true,
    augment: augmentFor(cfg),
    twoViews,
    numWorkers: cfg.numWorkers,
  });
}

/** A short, file-name-safe label for a validation target: 'synthetic-val', 'lfw' (lfw.bin), 'pairs'. */
export function validationLabel(spec: string): string {
  const { name } = parseSpec(spec);
  if (name === 'synthetic-val') return 'synthetic-val';
  const base = (spec.includes('@') ? spec.split('@')[0]! : spec).split(/[\\/]/).pop() ?? spec;
  return base.replace(/\.(bin|txt)$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '_') || 'val';
}
