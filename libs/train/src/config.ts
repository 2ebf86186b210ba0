// Training configuration: insightface `configs/base.py` names and defaults (camelCased), one flat typed object.
// A JSON/YAML file and then command-line overrides are merged onto the defaults and validated once, at the boundary.
import { readFileSync } from 'node:fs';
import { BACKEND_CHOICES, type BackendChoice } from '@facet/engine';
import { RECOGNIZABILITY_TRAINING_DEFAULTS as RER } from '@facet/quality';
import { parse as parseYaml } from 'yaml';
import { withInitArchitecture } from './init-model.js';

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
  /** Fine-tuning: start the backbone from this model folder (or a run's model/); '' = seeded random weights. */
  init: string;
  /** Parameter-name prefixes (insightface names, e.g. conv1, bn1, layer1) kept fixed during training. */
  freeze: string[];
  /**
   * BatchNorm in inference mode while training (running statistics fixed, γ/β trained). 'auto' = on when `init` is
   * set: an imported network's statistics are what its weights were trained with, and a BN-folded export has none.
   */
  freezeBn: 'auto' | 'true' | 'false';
  /** Learning-rate multiplier of the backbone's parameters; the new head keeps the full rate. */
  backboneLrScale: number;
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
  backend: BackendChoice;
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
  init: '',
  freeze: [],
  freezeBn: 'auto',
  backboneLrScale: 1,
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

/**
 * One config field: how it is validated and what it means. This table is the single source for validation, the
 * CLI's flags and `--help`, and the README's config table (`describeConfigFields`).
 */
export interface ConfigFieldSpec {
  kind: Kind;
  min?: number;
  max?: number;
  minExclusive?: boolean;
  optional?: boolean;
  /** What the field means, with its unit; one sentence. */
  description: string;
  /** The `configs/base.py` key when insightface has one (snake_case). */
  insightface?: string;
}

const SCHEMA: Record<keyof TrainConfig, ConfigFieldSpec> = {
  network: { kind: 'string', insightface: 'network', description: "backbone registry name: iresnet18…200, mobilefacenet (insightface mbf), mobilefacenet_orig (Chen et al. 2018), vit_t, vit_s (see 'facet models')" },
  embeddingSize: { kind: 'integer', min: 1, insightface: 'embedding_size', description: 'embedding dimension D' },
  inputSize: { kind: 'integer', min: 16, description: 'square input side in pixels (112 = insightface crop; smaller builds faster CPU variants)' },
  width: { kind: 'number', min: 0, minExclusive: true, max: 4, description: 'channel-width multiplier of the backbone (1 = insightface layout)' },
  dropout: { kind: 'number', min: 0, max: 0.99, insightface: 'dropout', description: 'IResNet dropout before the embedding layer (probability)' },
  objective: { kind: { enum: ['margin', 'softmax', 'infonce', 'barlow'] }, description: 'training objective: a margin head, plain softmax, or a two-view self-supervised loss' },
  head: { kind: { enum: ['arcface', 'cosface', 'sphereface', 'combined', 'softmax'] }, description: 'margin preset (ArcFace m2 = 0.5, CosFace m3 = 0.4, …); --margin-list overrides it' },
  marginList: { kind: 'triple', insightface: 'margin_list', description: 'combined margin m1,m2,m3 of s·(cos(m1·θ + m2) − m3); unset = the head preset' },
  scale: { kind: 'number', min: 0, minExclusive: true, description: 'scale s of the normalized logits' },
  subCenters: { kind: 'integer', min: 1, description: 'K sub-centers per class (sub-center ArcFace); 1 = plain' },
  marginRule: { kind: { enum: ['plain', 'th_mm'] }, description: "margin past θ + m2 > π: 'plain' or insightface's easy_margin=False fallback 'th_mm'" },
  marginGradient: { kind: { enum: ['exact', 'straight_through'] }, description: "gradient through the margin: 'exact' or insightface's 'straight_through' (margin added without its derivative)" },
  sampleRate: { kind: 'number', min: 0, minExclusive: true, max: 1, insightface: 'sample_rate', description: 'Partial FC sample rate r in (0, 1]: fraction of class centres per step; 1 = full FC' },
  temperature: { kind: 'number', min: 0, minExclusive: true, description: "InfoNCE / NT-Xent temperature τ (objective 'infonce')" },
  barlowLambda: { kind: 'number', min: 0, description: "Barlow Twins off-diagonal weight λ (objective 'barlow')" },
  optimizer: { kind: { enum: ['sgd', 'adamw'] }, insightface: 'optimizer', description: 'optimizer of backbone and head' },
  lr: { kind: 'number', min: 0, minExclusive: true, insightface: 'lr', description: 'learning rate per --lr-reference-batch images; the rate used is lr · batch-size / lr-reference-batch' },
  lrReferenceBatch: { kind: 'integer', min: 1, description: 'images per step at which --lr applies unscaled (insightface: 1024 = 128 × 8 GPUs)' },
  momentum: { kind: 'number', min: 0, max: 0.999, insightface: 'momentum', description: 'SGD momentum' },
  weightDecay: { kind: 'number', min: 0, insightface: 'weight_decay', description: 'weight decay (L2, coupled for SGD, decoupled for AdamW)' },
  warmupEpochs: { kind: 'number', min: 0, insightface: 'warmup_epoch', description: 'linear learning-rate warm-up, in epochs' },
  numEpoch: { kind: 'number', min: 0, minExclusive: true, insightface: 'num_epoch', description: 'length of the schedule, in epochs' },
  lrPower: { kind: 'number', min: 0, description: 'polynomial decay power after warm-up (train_v2: 1 = linear to 0)' },
  batchSize: { kind: 'integer', min: 1, insightface: 'batch_size', description: 'images per step (all workers together)' },
  clipGradNorm: { kind: 'number', min: 0, description: 'gradient-norm clip on the backbone (insightface: 5; the head is not clipped); 0 disables' },
  seed: { kind: 'integer', min: 0, insightface: 'seed', description: 'seed of initialisation, sampling and augmentation' },
  dataset: { kind: 'string', insightface: 'rec', description: "training data: 'synthetic[:identities=N,images=M]', an image folder (one sub-folder per identity) or a .rec file" },
  keepList: { kind: 'string', optional: true, description: "train only on the items listed in this file (as 'facet clean' writes); empty = all" },
  init: { kind: 'string', optional: true, description: "fine-tune: start the backbone from a model folder, a facet train run, or an insightface .pth/.pt/.safetensors/.onnx file (imported once into ~/.cache/facet/imports); it sets network, embedding size, input size and width; the head is new; empty = random init" },
  freeze: { kind: 'list', description: 'comma-separated parameter-name prefixes kept fixed (insightface names: conv1,bn1,prelu,layer1 = stem + first stage of an IResNet); empty = train everything' },
  freezeBn: { kind: { enum: ['auto', 'true', 'false'] }, description: 'BatchNorm in inference mode while training (running statistics fixed, γ/β still trained); auto = on when --init is given (an imported model keeps the statistics it was trained with; a BN-folded ONNX export has none)' },
  backboneLrScale: { kind: 'number', min: 0, description: 'learning-rate multiplier of the backbone (e.g. 0.1 when fine-tuning); the new head keeps the full --lr' },
  valTargets: { kind: 'list', insightface: 'val_targets', description: "validation sets, comma-separated: .bin files, 'pairs.txt@root' or 'synthetic-val[:identities=N,pairs=P]'" },
  verbose: { kind: 'integer', min: 0, insightface: 'verbose', description: 'validate every N steps; 0 = only at the end' },
  frequent: { kind: 'integer', min: 1, insightface: 'frequent', description: 'log every N steps' },
  checkpointEvery: { kind: 'integer', min: 0, description: 'checkpoint every N steps; 0 = only at the end' },
  output: { kind: 'string', insightface: 'output', description: 'run folder: model, checkpoints, logs and plots' },
  augment: { kind: { enum: ['flip', 'none', 'strong', 'lowres'] }, description: 'augmentation (insightface: horizontal flip only)' },
  numWorkers: { kind: 'integer', min: 0, insightface: 'num_workers', description: 'data-loading worker threads (0 = load on the training thread)' },
  workers: { kind: 'integer', min: 1, description: 'data-parallel training replicas (worker threads, SyncBN); each gets batch-size / workers images' },
  maxSteps: { kind: 'integer', min: 0, description: 'stop after this many steps (0 = the whole schedule; the schedule still follows num-epoch)' },
  timeBudget: { kind: 'number', min: 0, description: 'wall-clock budget in seconds (0 = none): training ends cleanly, with a checkpoint, when it is used up' },
  backend: { kind: { enum: BACKEND_CHOICES }, description: 'tfjs backend (the shared --backend flag)' },
  recognizability: { kind: 'boolean', description: "RER's training additions: RI regression head, index-diversion loss, perceptibility attention (sets augment to lowres unless given)" },
  riRegressionWeight: { kind: 'number', min: 0, description: 'α: weight of the RI regression loss (Smooth-L1)' },
  riDiversionWeight: { kind: 'number', min: 0, description: 'β: weight of the index-diversion loss' },
  riAttentionWeight: { kind: 'number', min: 0, description: 'γ: weight of the perceptibility-attention loss (0 turns the attention off)' },
  riMargin: { kind: 'number', min: 0, description: 'τ: index-diversion margin, in 1 − cos units' },
  riUiImages: { kind: 'integer', min: 1, description: 'unrecognizable images appended to every batch' },
};

export const CONFIG_KEYS = Object.keys(SCHEMA) as Array<keyof TrainConfig>;
/** On/off fields (CLI: `--name` / `--no-name`). */
export const CONFIG_SWITCHES = CONFIG_KEYS.filter((k) => SCHEMA[k].kind === 'boolean');

/** A config field as users see it: its flag, meaning, accepted values and default (for --help and the README). */
export interface ConfigFieldDescription {
  key: keyof TrainConfig;
  flag: string;
  insightface?: string;
  description: string;
  /** Accepted values, e.g. 'integer ≥ 1', 'one of sgd, adamw'. */
  accepts: string;
  /** The default as text ('' for an empty string or list, 'unset' for null). */
  defaultText: string;
}

const kebabCase = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function acceptsText(spec: ConfigFieldSpec): string {
  const k = spec.kind;
  if (typeof k === 'object') return `one of ${k.enum.join(', ')}`;
  const lo = spec.min === undefined ? '' : `${spec.minExclusive ? '>' : '≥'} ${spec.min}`;
  const hi = spec.max === undefined ? '' : `≤ ${spec.max}`;
  const range = [lo, hi].filter(Boolean).join(', ');
  const name = { string: 'text', number: 'number', integer: 'integer', boolean: 'on/off', list: 'comma-separated list', triple: 'three numbers' }[k];
  return range ? `${name} ${range}` : name;
}

function defaultText(value: unknown): string {
  if (value === null) return 'unset';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** Every config field with its flag, description, accepted values and default, in schema order. */
export function describeConfigFields(): ConfigFieldDescription[] {
  return CONFIG_KEYS.map((key) => {
    const spec = SCHEMA[key];
    return {
      key,
      flag: `--${kebabCase(key)}`,
      ...(spec.insightface ? { insightface: spec.insightface } : {}),
      description: spec.description,
      accepts: acceptsText(spec),
      defaultText: defaultText(DEFAULT_CONFIG[key]),
    };
  });
}

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
  // --init decides the architecture; only a file or a flag can contradict it (a preset's network is a suggestion)
  if (cfg.init) {
    const explicit = new Set(layers.filter(([, source]) => source !== 'preset').flatMap(([layer]) => Object.keys(layer).filter((k) => layer[k] !== undefined).map(camel)));
    cfg = withInitArchitecture(cfg, explicit);
  }
  // RER trains with very-low-resolution augmentation by default (theory.md §3); an explicit augment wins
  const augmentSet = layers.some(([layer]) => Object.keys(layer).some((k) => camel(k) === 'augment' && layer[k] !== undefined));
  if (cfg.recognizability && !augmentSet) cfg = { ...cfg, augment: 'lowres' };
  return cfg;
}

/** The effective learning rate: insightface scales lr with the global batch (≈0.1 per 1024 images). */
export function effectiveLr(cfg: TrainConfig): number {
  return (cfg.lr * cfg.batchSize) / cfg.lrReferenceBatch;
}

/** The README's config table (Markdown), made from the same descriptions as --help; a test keeps the README equal to it. */
export function configFieldsMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = describeConfigFields()
    .filter((f) => f.key !== 'backend')
    .map((f) => `| \`${f.flag}\` | ${f.insightface ? `\`${f.insightface}\`` : ''} | ${cell(f.description)} | ${cell(f.accepts)} | ${f.defaultText === '' ? '(empty)' : `\`${cell(f.defaultText)}\``} |`);
  return ['| flag | insightface | meaning | accepts | default |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Whether BN runs in inference mode during training (`freezeBn`, 'auto' = when fine-tuning from `init`). */
export function batchNormFrozen(cfg: Pick<TrainConfig, 'freezeBn' | 'init'>): boolean {
  return cfg.freezeBn === 'true' || (cfg.freezeBn === 'auto' && cfg.init !== '');
}
