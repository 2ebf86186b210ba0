// A Facet training run as arcface_torch's `save_all_states` checkpoints, so training can continue under insightface
// (recognition/arcface_torch/train_v2.py with resume=True). Per rank r of a world of W GPUs, checkpoint_gpu_{r}.pt =
// {epoch, global_step, state_dict_backbone, state_dict_softmax_fc, state_optimizer, state_lr_scheduler}; Partial FC
// v2 keeps on rank r the centres of classes [C//W·r + min(r, C%W), … + C//W + (r < C%W)) as its parameter `weight`
// [num_local, D]. Beside them a config .py in arcface_torch's style (configs/*.py: an EasyDict named config).
//
// Carried: backbone weights and BN statistics, Partial FC centres, epoch, global step, the optimizer's
// hyper-parameters, SGD momentum buffers (backbone and centres) and the scheduler position. Not carried (said in the
// report): AdamW moments (arcface_torch restarts them at zero), the position inside the epoch (it restarts the
// epoch), sub-centres (K > 1: arcface_torch has no sub-center Partial FC), widths/input sides get_model cannot build.
// Facet's Partial FC updates only the sampled rows (v1 semantics) where v2's SGD decays every row: with sample
// rate 1 the two agree; below it the carried centre momentum is the same buffer under a slightly different rule.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createBackbone } from '@facet/backbones';
import { MARGIN_PRESETS } from '@facet/heads';
import { effectiveLr, latestCheckpoint, readCheckpoint, type TrainConfig } from '@facet/train';
import { stateDictFromBackbone } from './backbone-map.js';
import { extractStateDict } from './state-dict.js';
import { float32Tensor, toFloat32, type StateDict, type TensorData } from './tensor.js';
import { isTensorData, readTorchFile } from './torch/pth-read.js';
import { writeTorchFile, type TorchWritable } from './torch/pth-write.js';
import { writeAtomic } from './atomic.js';

export interface ArcfaceTorchExportOptions {
  /** Number of GPUs (ranks) the centres are split over. Default 1. */
  worldSize?: number;
}

export interface ArcfaceTorchExport {
  dir: string;
  files: string[];
  config: string;
  epoch: number;
  globalStep: number;
  numClasses: number;
  /** Centres per rank. */
  numLocal: number[];
  notCarried: string[];
}

/** Partial FC v2's class range on rank `rank` of `world` (partial_fc_v2.py). */
export function partialFcShard(numClasses: number, world: number, rank: number): { start: number; numLocal: number } {
  const base = Math.floor(numClasses / world);
  const rest = numClasses % world;
  return { start: base * rank + Math.min(rank, rest), numLocal: base + (rank < rest ? 1 : 0) };
}

const INSIGHTFACE_NAMES: Record<string, string> = {
  iresnet18: 'r18',
  iresnet34: 'r34',
  iresnet50: 'r50',
  iresnet100: 'r100',
  iresnet200: 'r200',
  mobilefacenet: 'mbf',
  vit_t: 'vit_t',
  vit_s: 'vit_s',
};

const py = (v: unknown): string =>
  v === null || v === undefined ? 'None' : typeof v === 'boolean' ? (v ? 'True' : 'False') : Array.isArray(v) ? `(${v.map(py).join(', ')}${v.length === 1 ? ',' : ''})` : JSON.stringify(v);

function configPy(cfg: TrainConfig, o: { network: string; numClasses: number; numImages?: number; lr: number; world: number; run: string; step: number }): string {
  const m = cfg.marginList ?? [MARGIN_PRESETS[cfg.head as keyof typeof MARGIN_PRESETS]?.m1, MARGIN_PRESETS[cfg.head as keyof typeof MARGIN_PRESETS]?.m2, MARGIN_PRESETS[cfg.head as keyof typeof MARGIN_PRESETS]?.m3];
  const lines = [
    `# arcface_torch config written by Facet from ${o.run} (step ${o.step}); train with`,
    `#   torchrun --nproc_per_node=${o.world} train_v2.py configs/<this file>`,
    '# resume = True continues from the checkpoint_gpu_{rank}.pt files in config.output.',
    'from easydict import EasyDict as edict',
    '',
    'config = edict()',
    `config.network = ${py(o.network)}`,
    `config.embedding_size = ${cfg.embeddingSize}`,
    `config.margin_list = ${py(m.map((x) => Number(x)))}`,
    `config.sample_rate = ${cfg.sampleRate}`,
    `config.num_classes = ${o.numClasses}`,
    `config.num_image = ${o.numImages ?? 'None  # not recorded in the run: set it to the training set size'}`,
    `config.num_epoch = ${cfg.numEpoch}`,
    `config.warmup_epoch = ${cfg.warmupEpochs}`,
    `config.batch_size = ${Math.max(1, Math.round(cfg.batchSize / o.world))}  # per GPU: ${cfg.batchSize} images per step over ${o.world}`,
    `config.lr = ${o.lr}`,
    `config.optimizer = ${py(cfg.optimizer)}`,
    `config.momentum = ${cfg.momentum}`,
    `config.weight_decay = ${cfg.weightDecay}`,
    `config.dropout = ${cfg.dropout}`,
    `config.seed = ${cfg.seed}`,
    `config.fp16 = False`,
    `config.rec = ${py(cfg.dataset)}`,
    `config.output = ${py('.')}`,
    `config.resume = True`,
    `config.save_all_states = True`,
    `config.verbose = ${cfg.verbose || 2000}`,
    `config.frequent = ${cfg.frequent}`,
    `config.num_workers = ${cfg.numWorkers}`,
    `config.dali = False`,
    '',
  ];
  return lines.join('\n');
}

/** The optimizer as train_v2.py builds it: two param groups (backbone parameters, Partial FC's weight). */
function optimizerState(cfg: TrainConfig, lr: number, backboneParams: number, state: Record<string, TorchWritable>): TorchWritable {
  const common = { lr, weight_decay: cfg.weightDecay, initial_lr: lr, maximize: false, foreach: null, differentiable: false };
  const group =
    cfg.optimizer === 'adamw'
      ? { ...common, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, capturable: false }
      : { ...common, momentum: cfg.momentum, dampening: 0, nesterov: false };
  return {
    state,
    param_groups: [
      { ...group, params: Array.from({ length: backboneParams }, (_, i) => i) },
      { ...group, params: [backboneParams] },
    ],
  };
}

/**
 * Facet's backbone SGD is torch.optim.SGD's rule (buf ← μ·buf + g + wd·w), so its momentum slots are PyTorch's
 * momentum_buffer once put in PyTorch's layouts: passed through the same map as the weights, by loading them into a
 * backbone in place of the parameters.
 */
function backboneMomentum(
  arrays: Record<string, ArrayLike<number>>,
  cfg: TrainConfig,
  weights: Record<string, Float32Array>,
): StateDict | undefined {
  const slots = new Map<string, Float32Array>();
  for (const [k, a] of Object.entries(arrays)) {
    const m = /^opt\/[^/]+\/(.+)\/momentum$/.exec(k);
    if (m && a instanceof Float32Array) slots.set(m[1]!, a);
  }
  if (!slots.size) return undefined;
  const backbone = createBackbone(cfg.network, { embeddingSize: cfg.embeddingSize, inputSize: cfg.inputSize, width: cfg.width });
  try {
    backbone.setWeights(Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, slots.get(k) ?? w])));
    const sd = stateDictFromBackbone(backbone);
    return new Map([...sd].filter(([k]) => slots.has(k)));
  } finally {
    backbone.dispose();
  }
}

/** Write `run`'s latest checkpoint as arcface_torch checkpoint_gpu_{rank}.pt files plus a config .py in `out`. */
export async function exportArcfaceTorch(run: string, out: string, opts: ArcfaceTorchExportOptions = {}): Promise<ArcfaceTorchExport> {
  const world = opts.worldSize ?? 1;
  if (!Number.isInteger(world) || world < 1) throw new Error(`worldSize must be a positive integer (got ${world})`);
  const ck = latestCheckpoint(run);
  if (!ck) throw new Error(`${run}: no training checkpoint (checkpoints/latest.json); arcface-torch export needs a facet train run, not a model folder`);
  const c = readCheckpoint(ck);
  const cfg = c.meta.config as TrainConfig;
  const objective = c.meta.objective as { kind: string; meta: { numClasses?: number; subCenters?: number; embeddingSize?: number } };
  if (objective?.kind !== 'partial-fc') {
    throw new Error(`${run}: the run trains a ${objective?.kind ?? 'unknown'} head; arcface_torch continues only margin heads through Partial FC (export the backbone with --format pth instead)`);
  }
  const C = objective.meta.numClasses!;
  const K = objective.meta.subCenters ?? 1;
  const D = cfg.embeddingSize;
  if (K !== 1) throw new Error(`${run}: sub-center Partial FC (K = ${K}) has no arcface_torch counterpart; export the backbone with --format pth`);
  if (world > C) throw new Error(`worldSize ${world} exceeds the ${C} classes: some ranks would hold no centre`);
  const centres = c.arrays['objective/weights'];
  if (!(centres instanceof Float32Array) || centres.length !== C * D) throw new Error(`${ck}: objective/weights is not the [${C}, ${D}] centre matrix`);

  const backbone = createBackbone(cfg.network, { embeddingSize: cfg.embeddingSize, inputSize: cfg.inputSize, width: cfg.width });
  let sd: StateDict;
  const weights: Record<string, Float32Array> = {};
  try {
    for (const name of Object.keys(backbone.getWeights())) {
      const a = c.arrays[`backbone/${name}`];
      if (!(a instanceof Float32Array)) throw new Error(`${ck}: backbone/${name} missing`);
      weights[name] = a;
    }
    backbone.setWeights(weights);
    sd = stateDictFromBackbone(backbone, { numBatchesTracked: c.step });
  } finally {
    backbone.dispose();
  }
  const paramNames = [...sd.keys()].filter((k) => !/\.(running_mean|running_var|num_batches_tracked)$/.test(k));
  const backboneParams = paramNames.length;
  const momentum = cfg.optimizer === 'sgd' && cfg.momentum > 0 ? backboneMomentum(c.arrays, cfg, weights) : undefined;
  const centreMomentum = c.arrays['objective/momentum'];
  const lr = effectiveLr(cfg);
  const epoch = Number((c.meta.loader as { epoch?: number } | undefined)?.epoch ?? 0);
  const notCarried = [`the position inside epoch ${epoch} (arcface_torch restarts the epoch)`];
  if (cfg.optimizer !== 'sgd') notCarried.push('AdamW moments (arcface_torch starts them at zero)');
  else if (cfg.momentum > 0 && !momentum) notCarried.push('momentum buffers (none in the checkpoint)');
  if (cfg.width !== 1 || cfg.inputSize !== 112) {
    notCarried.push(`the architecture: width ${cfg.width} at ${cfg.inputSize}×${cfg.inputSize} is not what get_model('${INSIGHTFACE_NAMES[cfg.network] ?? cfg.network}') builds (width 1, 112×112)`);
  }
  if (!(cfg.network in INSIGHTFACE_NAMES)) {
    // mobilefacenet_orig = get_mbf(blocks=(1,4,6,2), scale=1): same state-dict names, but get_model has no name for it
    notCarried.push(`the architecture name: insightface's get_model does not build ${cfg.network}${cfg.network === 'mobilefacenet_orig' ? ` (it is get_mbf(fp16, num_features=${cfg.embeddingSize}, blocks=(1, 4, 6, 2), scale=1): add that to backbones/__init__.py; the state dict loads as is)` : ''}`);
  }
  if (cfg.batchSize % world !== 0) {
    notCarried.push(`the exact batch: ${cfg.batchSize} images per step do not split over ${world} GPUs (config.batch_size ${Math.max(1, Math.round(cfg.batchSize / world))} per GPU)`);
  }
  let numImages: number | undefined;
  try {
    numImages = (JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as { numImages?: number }).numImages;
  } catch {
    notCarried.push('num_image (no summary.json in the run): set it in the config');
  }

  mkdirSync(out, { recursive: true });
  const files: string[] = [];
  const numLocal: number[] = [];
  for (let r = 0; r < world; r++) {
    const { start, numLocal: n } = partialFcShard(C, world, r);
    numLocal.push(n);
    // optimizer state by parameter index (train_v2.py's order: backbone parameters, then Partial FC's weight)
    const state: Record<string, TorchWritable> = {};
    if (momentum) paramNames.forEach((k, i) => momentum.has(k) && (state[String(i)] = { momentum_buffer: momentum.get(k)! }));
    if (momentum && centreMomentum instanceof Float32Array && centreMomentum.length === C * D) {
      state[String(backboneParams)] = { momentum_buffer: float32Tensor([n, D], centreMomentum.subarray(start * D, (start + n) * D)) };
    }
    const checkpoint: TorchWritable = {
      epoch,
      global_step: c.step,
      state_dict_backbone: sd,
      state_dict_softmax_fc: new Map([['weight', float32Tensor([n, D], centres.subarray(start * D, (start + n) * D))]]),
      state_optimizer: optimizerState(cfg, lr, backboneParams, state),
      // PolynomialLRWarmup.load_state_dict updates its __dict__: the position is all a resumed schedule needs
      state_lr_scheduler: { last_epoch: c.step, _step_count: c.step + 1 },
    };
    const file = join(out, `checkpoint_gpu_${r}.pt`);
    await writeAtomic(file, writeTorchFile(checkpoint));
    files.push(file);
  }
  const config = join(out, 'facet_export.py');
  const network = INSIGHTFACE_NAMES[cfg.network] ?? cfg.network;
  await writeAtomic(config, new TextEncoder().encode(configPy(cfg, { network, numClasses: C, numImages, lr, world, run: resolve(run), step: c.step })));
  return { dir: out, files, config, epoch, globalStep: c.step, numClasses: C, numLocal, notCarried };
}

export interface ArcfaceTorchCheckpoint {
  stateDict: StateDict;
  /** All ranks' Partial FC centres in class order, [C, D]. */
  centres: TensorData;
  epoch?: number;
  globalStep?: number;
  worldSize: number;
}

/** Read arcface_torch's checkpoint_gpu_{rank}.pt files back: rank 0's backbone, every rank's centres reassembled. */
export function readArcfaceTorchDir(dir: string): ArcfaceTorchCheckpoint {
  if (!existsSync(dir)) throw new Error(`${dir}: no such folder`);
  const ranks = readdirSync(dir)
    .map((f) => /^checkpoint_gpu_(\d+)\.pt$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (!ranks.length) throw new Error(`${dir}: no checkpoint_gpu_{rank}.pt files (arcface_torch's save_all_states checkpoints)`);
  if (ranks.some((r, i) => r !== i)) throw new Error(`${dir}: ranks ${ranks.join(', ')} are not 0…${ranks.length - 1}; a rank's file is missing`);
  const world = ranks.length;
  const shards: Float32Array[] = [];
  let first: { stateDict: StateDict; epoch?: number; globalStep?: number } | undefined;
  let D = 0;
  for (const r of ranks) {
    const file = join(dir, `checkpoint_gpu_${r}.pt`);
    const b = readFileSync(file);
    const value = readTorchFile(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), file);
    const { stateDict, source } = extractStateDict(value, file);
    if (r === 0) first = { stateDict, epoch: source.epoch, globalStep: source.globalStep };
    const fc = value instanceof Map ? value.get('state_dict_softmax_fc') : undefined;
    const w = fc instanceof Map ? fc.get('weight') : undefined;
    if (!isTensorData(w) || w.shape.length !== 2) throw new Error(`${file}: no state_dict_softmax_fc.weight [num_local, D]`);
    D = w.shape[1]!;
    shards.push(toFloat32(w));
  }
  const C = shards.reduce((n, s) => n + s.length / D, 0);
  shards.forEach((s, r) => {
    const { numLocal } = partialFcShard(C, world, r);
    if (s.length / D !== numLocal) throw new Error(`${dir}: rank ${r} holds ${s.length / D} centres where Partial FC's split of ${C} classes over ${world} gives ${numLocal}`);
  });
  const all = new Float32Array(C * D);
  let o = 0;
  for (const s of shards) {
    all.set(s, o);
    o += s.length;
  }
  return { stateDict: first!.stateDict, centres: float32Tensor([C, D], all), epoch: first!.epoch, globalStep: first!.globalStep, worldSize: world };
}
