// Training configuration: insightface `configs/base.py` names and defaults (camelCased), one flat typed object.
// A JSON/YAML file and then command-line overrides are merged onto the defaults and validated once, at the boundary.
import { readFileSync } from 'node:fs';
import { RECOGNIZABILITY_TRAINING_DEFAULTS as RER } from '@facet/quality';
import { parse as parseYaml } from 'yaml';

export type OptimizerName = 'sgd' | 'adamw';
export type HeadName = 'arcface' | 'cosface' | 'sphereface' | 'combined' | 'softmax';
export type ObjectiveName = 'margin' | 'softmax' | 'infonce' | 'barlow';

export interface TrainConfig {
  /** Backbone registry name (see `facet models`). */
  network: string;
  embeddingSize: number;
  /** Square input side; 112 is insightface's crop; smaller values build faster CPU variants. */
  inputSize: number;
  /** Channel width multiplier of the backbone (1 = insightface layout). */
  width: number;
  dropout: number;
  /** Training objective: a margin head (default), plain softmax, or a self-supervised two-view loss. */
  objective: ObjectiveName;
  /** Margin preset; `marginList` overrides it when set (insightface's margin_list: m1, m2, m3). */
  head: HeadName;
  marginList: [number, number, number] | null;
  /** Scale s of the normalized logits. */
  scale: number;
  /** K sub-centers per class (sub-center ArcFace); 1 = plain. */
  subCenters: number;
  /** 'plain' or insightface's easy_margin=False fallback ('th_mm'). */
  marginRule: 'plain' | 'th_mm';
  marginGradient: 'exact' | 'straight_through';
  /** Partial FC sample rate r in (0, 1]; 1 = full FC. */
  sampleRate: number;
  /** InfoNCE / NT-Xent temperature τ (objective 'infonce'). */
  temperature: number;
  /** Barlow Twins off-diagonal weight λ (objective 'barlow'). */
  barlowLambda: number;
  optimizer: OptimizerName;
  /** Learning rate per `lrReferenceBatch` images; the effective rate is lr · batchSize / lrReferenceBatch. */
  lr: number;
  lrReferenceBatch: number;
  momentum: number;
  weightDecay: number;
  warmupEpochs: number;
  numEpoch: number;
  /** Polynomial decay power after warm-up (train_v2: 1 = linear to 0). */
  lrPower: number;
  batchSize: number;
  /** Gradient-norm clip on the backbone (insightface: 5; the head is not clipped). 0 disables. */
  clipGradNorm: number;
  seed: number;
  /** 'synthetic[:identities=..,images=..]', an image folder, or a .rec file. */
  dataset: string;
  /** Train only on the items listed in this file (one dataset item per line, as `facet clean` writes); '' = all. */
  keepList: string;
  /** Validation sets: .bin files, 'pairs.txt@root' or 'synthetic-val[:...]'. */
  valTargets: string[];
  /** Validate every N steps (insightface: verbose=2000); 0 = only at the end. */
  verbose: number;
  /** Log every N steps (insightface: frequent=10). */
  frequent: number;
  /** Checkpoint every N steps; 0 = only at the end. */
  checkpointEvery: number;
  output: string;
  /** Augmentation: insightface's default is horizontal flip only. */
  augment: 'flip' | 'none' | 'strong' | 'lowres';
  numWorkers: number;
  /** Data-parallel training replicas (worker threads). */
  workers: number;
  /** Stop after this many steps (0 = the whole schedule); the schedule is still computed from numEpoch. */
  maxSteps: number;
  /** Wall-clock budget in seconds (0 = none): training ends cleanly, with a checkpoint, when it is used up. */
  timeBudget: number;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /**
   * RER's training additions (libs/quality): RI regression head, index-diversion loss, perceptibility attention;
   * the model is stored with a calibrated quality head. Turns the augmentation to 'lowres' unless it is set.
   */
  recognizability: boolean;
  /** α: weight of the RI regression (Smooth-L1). */
  riRegressionWeight: number;
  /** β: weight of the index-diversion loss. */
  riDiversionWeight: number;
  /** γ: weight of the perceptibility-attention loss (0 turns the attention off). */
  riAttentionWeight: number;
  /** τ: diversion margin, in 1 − cos units. */
  riMargin: number;
  /** Unrecognizable images appended to every batch. */
  riUiImages: number;
}

export const DEFAULT_CONFIG: TrainConfig = {
  network: 'iresnet50',
  embeddingSize: 512,
  inputSize: 112,
  width: 1,
  dropout: 0,
  objective: 'margin',
  head: 'arcface',
  marginList: null,
  scale: 64,
  subCenters: 1,
  marginRule: 'plain',
  marginGradient: 'exact',
  sampleRate: 1,
  temperature: 0.1,
  barlowLambda: 5e-3,
  optimizer: 'sgd',
  lr: 0.1,
  lrReferenceBatch: 1024,
  momentum: 0.9,
  weightDecay: 5e-4,
  warmupEpochs: 0,
  numEpoch: 20,
  lrPower: 1,
  batchSize: 128,
  clipGradNorm: 5,
  seed: 2048,
  dataset: 'synthetic',
  keepList: '',
  valTargets: [],
  verbose: 2000,
  frequent: 10,
  checkpointEvery: 0,
  output: 'work_dirs/facet',
  augment: 'flip',
  numWorkers: 0,
  workers: 1,
  maxSteps: 0,
  timeBudget: 0,
  backend: 'auto',
  recognizability: false,
  riRegressionWeight: RER.regressionWeight,
  riDiversionWeight: RER.diversionWeight,
  riAttentionWeight: RER.attentionWeight,
  riMargin: RER.margin,
  riUiImages: RER.uiImagesPerBatch,
};

/** The small CPU job `npm start` runs: a narrow IResNet-18 on the built-in synthetic faces. */
export const QUICKSTART_CONFIG: Partial<TrainConfig> = {
  network: 'iresnet18',
  width: 0.25,
  inputSize: 56,
  embeddingSize: 128,
  head: 'arcface',
  scale: 32,
  dataset: 'synthetic:identities=64,images=24',
  numWorkers: 1,
  valTargets: ['synthetic-val:identities=40,pairs=600'],
  batchSize: 32,
  lr: 0.1,
  lrReferenceBatch: 32,
  weightDecay: 5e-4,
  warmupEpochs: 1,
  numEpoch: 6,
  verbose: 0,
  frequent: 5,
  checkpointEvery: 50,
  output: 'runs/quickstart',
  seed: 2048,
};

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'triple' | { enum: readonly string[] };

const SCHEMA: Record<keyof TrainConfig, { kind: Kind; min?: number; max?: number; minExclusive?: boolean; optional?: boolean }> = {
  network: { kind: 'string' },
  embeddingSize: { kind: 'integer', min: 1 },
  inputSize: { kind: 'integer', min: 16 },
  width: { kind: 'number', min: 0, minExclusive: true, max: 4 },
  dropout: { kind: 'number', min: 0, max: 0.99 },
  objective: { kind: { enum: ['margin', 'softmax', 'infonce', 'barlow'] } },
  head: { kind: { enum: ['arcface', 'cosface', 'sphereface', 'combined', 'softmax'] } },
  marginList: { kind: 'triple' },
  scale: { kind: 'number', min: 0, minExclusive: true },
  subCenters: { kind: 'integer', min: 1 },
  marginRule: { kind: { enum: ['plain', 'th_mm'] } },
  marginGradient: { kind: { enum: ['exact', 'straight_through'] } },
  sampleRate: { kind: 'number', min: 0, minExclusive: true, max: 1 },
  temperature: { kind: 'number', min: 0, minExclusive: true },
  barlowLambda: { kind: 'number', min: 0 },
  optimizer: { kind: { enum: ['sgd', 'adamw'] } },
  lr: { kind: 'number', min: 0, minExclusive: true },
  lrReferenceBatch: { kind: 'integer', min: 1 },
  momentum: { kind: 'number', min: 0, max: 0.999 },
  weightDecay: { kind: 'number', min: 0 },
  warmupEpochs: { kind: 'number', min: 0 },
  numEpoch: { kind: 'number', min: 0, minExclusive: true },
  lrPower: { kind: 'number', min: 0 },
  batchSize: { kind: 'integer', min: 1 },
  clipGradNorm: { kind: 'number', min: 0 },
  seed: { kind: 'integer', min: 0 },
  dataset: { kind: 'string' },
  keepList: { kind: 'string', optional: true },
  valTargets: { kind: 'list' },
  verbose: { kind: 'integer', min: 0 },
  frequent: { kind: 'integer', min: 1 },
  checkpointEvery: { kind: 'integer', min: 0 },
  output: { kind: 'string' },
  augment: { kind: { enum: ['flip', 'none', 'strong', 'lowres'] } },
  numWorkers: { kind: 'integer', min: 0 },
  workers: { kind: 'integer', min: 1 },
  maxSteps: { kind: 'integer', min: 0 },
  timeBudget: { kind: 'number', min: 0 },
  backend: { kind: { enum: ['auto', 'tensorflow', 'wasm', 'cpu'] } },
  recognizability: { kind: 'boolean' },
  riRegressionWeight: { kind: 'number', min: 0 },
  riDiversionWeight: { kind: 'number', min: 0 },
  riAttentionWeight: { kind: 'number', min: 0 },
  riMargin: { kind: 'number', min: 0 },
  riUiImages: { kind: 'integer', min: 1 },
};

export const CONFIG_KEYS = Object.keys(SCHEMA) as Array<keyof TrainConfig>;
/** On/off fields (CLI: `--name` / `--no-name`). */
export const CONFIG_SWITCHES = CONFIG_KEYS.filter((k) => SCHEMA[k].kind === 'boolean');

/** insightface's snake_case names are accepted too (margin_list, sample_rate, num_epoch, ...). */
function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export class ConfigError extends Error {}

function coerce(key: string, value: unknown, kind: Kind, source: string): unknown {
  const where = `${source}: "${key}"`;
  if (typeof kind === 'object') {
    if (typeof value !== 'string' || !kind.enum.includes(value)) {
      throw new ConfigError(`${where} must be one of ${kind.enum.join(', ')} (got ${JSON.stringify(value)})`);
    }
    return value;
  }
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw new ConfigError(`${where} must be a non-empty string (got ${JSON.stringify(value)})`);
      return value;
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true';
      if (typeof value !== 'boolean') throw new ConfigError(`${where} must be true or false (got ${JSON.stringify(value)})`);
      return value;
    case 'number':
    case 'integer': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new ConfigError(`${where} must be a number (got ${JSON.stringify(value)})`);
      if (kind === 'integer' && !Number.isInteger(n)) throw new ConfigError(`${where} must be an integer (got ${n})`);
      return n;
    }
    case 'list':
      if (typeof value === 'string') return value === '' ? [] : value.split(',').map((s) => s.trim());
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(`${where} must be a list of strings`);
      return value;
    case 'triple': {
      if (value === null) return null;
      const arr = typeof value === 'string' ? value.split(',').map(Number) : value;
      if (!Array.isArray(arr) || arr.length !== 3 || !arr.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new ConfigError(`${where} must be three numbers m1,m2,m3 (got ${JSON.stringify(value)})`);
      }
      return arr;
    }
  }
}

/** Merge `partial` onto `base`, rejecting unknown keys and wrong types with a message naming the key and source. */
export function mergeConfig(base: TrainConfig, partial: Record<string, unknown>, source: string): TrainConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [rawKey, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    const key = camel(rawKey);
    const spec = SCHEMA[key as keyof TrainConfig];
    if (!spec) {
      const near = CONFIG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
      throw new ConfigError(`${source}: unknown key "${rawKey}"${near ? ` (did you mean "${near}"?)` : ''}; valid keys: ${CONFIG_KEYS.join(', ')}`);
    }
    const v = spec.optional && value === '' ? '' : coerce(key, value, spec.kind, source);
    if (typeof v === 'number') {
      const tooLow = spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min);
      const tooHigh = spec.max !== undefined && v > spec.max;
      if (tooLow || tooHigh) {
        const lo = spec.min === undefined ? '' : `${spec.minExclusive ? '>' : '≥'} ${spec.min}`;
        const hi = spec.max === undefined ? '' : `≤ ${spec.max}`;
        throw new ConfigError(`${source}: "${key}" must be ${[lo, hi].filter(Boolean).join(' and ')} (got ${v})`);
      }
    }
    out[key] = v;
  }
  return out as unknown as TrainConfig;
}

/** Read a JSON or YAML config file (insightface-style keys allowed). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`config file ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${path}: must hold an object of settings`);
  return data as Record<string, unknown>;
}

/** Defaults ← preset ← file ← overrides, validated. */
export function resolveConfig(opts: { preset?: Partial<TrainConfig>; file?: string; overrides?: Record<string, unknown> } = {}): TrainConfig {
  let cfg = DEFAULT_CONFIG;
  const layers: Array<[Record<string, unknown>, string]> = [];
  if (opts.preset) layers.push([opts.preset as Record<string, unknown>, 'preset']);
  if (opts.file) layers.push([readConfigFile(opts.file), `config file ${opts.file}`]);
  if (opts.overrides) layers.push([opts.overrides, 'flag']);
  for (const [layer, source] of layers) cfg = mergeConfig(cfg, layer, source);
  // RER trains with very-low-resolution augmentation by default (theory.md §3); an explicit augment wins
  const augmentSet = layers.some(([layer]) => Object.keys(layer).some((k) => camel(k) === 'augment' && layer[k] !== undefined));
  if (cfg.recognizability && !augmentSet) cfg = { ...cfg, augment: 'lowres' };
  return cfg;
}

/** The effective learning rate: insightface scales lr with the global batch (≈0.1 per 1024 images). */
export function effectiveLr(cfg: TrainConfig): number {
  return (cfg.lr * cfg.batchSize) / cfg.lrReferenceBatch;
}
