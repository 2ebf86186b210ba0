// `train(config)`: insightface's train_v2.py loop on tfjs — backbone → objective (margin head via Partial FC,
// softmax, or a two-view loss) → clipped backbone gradients → SGD/AdamW, with a per-step polynomial-warmup LR,
// atomic checkpoints that resume bit-for-bit, NaN protection and a JSON-lines log.
import { join, resolve } from 'node:path';
import type { Batch, FaceDataset } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { batchNormFrozen, ConfigError, mergeConfig, DEFAULT_CONFIG, type TrainConfig } from './config.js';
import { makeLoader } from './datasets.js';
import { engineMemoryBudget, estimateTrainingMemory } from './memory.js';
import { clipByGlobalNorm, makeOptimizer, type OptimizerState } from './optimizer.js';
import { optimizerSlotNames } from './optimizer-slots.js';
import { recognizabilityAddition, type RecognizabilityAddition } from './recognizability.js';
import { backboneWeights, resumeLatest, runSchedule, saveRunCheckpoint } from './run-checkpoint.js';
import { prepareOutput, startOutput } from './run-files.js';
import { openRunInputs } from './run-inputs.js';
import { INIT_ARCHITECTURE_KEYS, unfrozenVariables, withInitArchitecture } from './init-model.js';
import { finishRun, RunProgress, RunValidation } from './run-progress.js';
import { polynomialWarmupLr } from './schedule.js';
import type { ValidationResult } from './validation.js';
import { trainWithWorkers } from './parallel/train-with-workers.js';
import type { RecognizabilityState } from '@facet/quality';

export interface StepReport {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  accuracy?: number;
  lr: number;
  gradNorm: number;
  imagesPerSec: number;
  etaSeconds: number;
}

export interface TrainEvent {
  type: 'info' | 'warning' | 'validation' | 'checkpoint' | 'nan' | 'resume' | 'memory';
  message: string;
  data?: unknown;
}

export interface TrainRunOptions {
  onStep?: (s: StepReport) => void;
  onEvent?: (e: TrainEvent) => void;
  /** Abort (e.g. Ctrl-C): the run saves a checkpoint and returns with stoppedBy 'signal'. */
  signal?: AbortSignal;
  /** Continue the run in config.output from its latest checkpoint. */
  resume?: boolean;
  /** Reuse an output directory that holds another run (its checkpoints and log are replaced). */
  force?: boolean;
  hooks?: {
    beforeStep?: (batch: Batch, step: number) => void;
    /** The training forward's embeddings of a step (single-worker loop; read them, do not keep them). */
    embeddings?: (embeddings: tf.Tensor2D, step: number) => void;
  };
  /** Train on this dataset object instead of opening `config.dataset` (SDK use: wrapped or relabelled data). */
  dataset?: FaceDataset;
}

export interface TrainSummary {
  output: string;
  modelDir: string;
  config: TrainConfig;
  backend: string;
  objective: string;
  numClasses: number;
  numImages: number;
  steps: number;
  totalSteps: number;
  epochs: number;
  seconds: number;
  imagesPerSec: number;
  firstLoss: number;
  finalLoss: number;
  finalAccuracy?: number;
  validation: ValidationResult[];
  rawPixelBaseline: ValidationResult[];
  plots: string[];
  skippedSteps: number;
  stoppedBy: 'done' | 'maxSteps' | 'signal' | 'timeBudget';
  memory: { estimatedEngineBytes: number };
}

export async function train(config: TrainConfig, opts: TrainRunOptions = {}): Promise<TrainSummary> {
  const emit = (e: TrainEvent) => opts.onEvent?.(e);
  let cfg = mergeConfig(DEFAULT_CONFIG, config as unknown as Record<string, unknown>, 'config');
  // a config made without resolveConfig: fields left at their defaults are the init model's to decide
  if (cfg.init) cfg = withInitArchitecture(cfg, new Set(INIT_ARCHITECTURE_KEYS.filter((k) => cfg[k] !== DEFAULT_CONFIG[k])));
  if (cfg.freeze.length && cfg.workers > 1) {
    throw new ConfigError(`--freeze runs on one worker (the replicas' gradient buffers cover every parameter); drop --workers ${cfg.workers} or set --workers 1`);
  }
  if (cfg.recognizability && cfg.workers > 1) {
    throw new ConfigError(`--recognizability runs on one worker (its extra losses read the whole batch on the main thread); drop --workers ${cfg.workers} or set --workers 1`);
  }
  // data-parallel replicas on worker threads (parallel/): the same loop, with the step spread over the workers
  if (cfg.workers > 1) return trainWithWorkers(cfg, opts);
  const out = resolve(cfg.output);
  prepareOutput(cfg, out, opts);
  const engine = await initEngine({ backend: cfg.backend });
  emit({ type: 'info', message: `backend ${engine.backend}` });

  const { dataset, valSets, backbone, objective, lr } = await openRunInputs(cfg, opts);
  let rer: RecognizabilityAddition | undefined;
  try {
    rer = cfg.recognizability ? recognizabilityAddition(cfg, backbone, objective) : undefined;
  } catch (e) {
    objective.dispose();
    backbone.dispose();
    throw e;
  }
  // head variables: the objective's (softmax FC) and the RER additions'; trained with the backbone's optimizer, not clipped
  const headVars = [...objective.variables(), ...(rer?.variables() ?? [])];
  let backboneVars: tf.Variable[];
  try {
    backboneVars = unfrozenVariables(backbone, cfg.freeze);
  } catch (e) {
    rer?.dispose();
    objective.dispose();
    backbone.dispose();
    throw e;
  }
  const vars = [...backboneVars, ...headVars];
  const backboneNames = new Set(backboneVars.map((v) => v.name));
  const frozenBatchNorm = batchNormFrozen(cfg);
  if (cfg.init) {
    const frozen = cfg.freeze.length ? `; frozen: ${cfg.freeze.join(', ')} (${backbone.trainableVariables().length - backboneVars.length} tensors)` : '';
    const bn = frozenBatchNorm ? '; BatchNorm statistics frozen (--freeze-bn false to update them)' : '';
    const scale = cfg.backboneLrScale !== 1 ? `; backbone lr × ${cfg.backboneLrScale}` : '';
    emit({ type: 'info', message: `fine-tuning ${backbone.name} from ${cfg.init}${frozen}${bn}${scale}` });
  }
  const optimizer = makeOptimizer(cfg, vars, cfg.backboneLrScale === 1 ? undefined : new Map(backboneVars.map((v) => [v.name, cfg.backboneLrScale])));
  const loader = makeLoader(dataset, cfg, objective.twoViews);
  const S = cfg.inputSize;
  const B = cfg.batchSize;

  const toTensor = (images: Float32Array) => tf.tensor4d(images, [B, S, S, 3]);
  const lossOf = (batch: Batch, step: number) =>
    rer
      ? rer.loss(batch, step)
      : tf.tidy(() => {
          const emb = backbone.apply(toTensor(batch.images), { training: true, frozenBatchNorm });
          opts.hooks?.embeddings?.(emb, step);
          const emb2 = objective.twoViews && batch.views2 ? backbone.apply(toTensor(batch.views2), { training: true, frozenBatchNorm }) : undefined;
          return objective.loss(emb, batch.labels, emb2);
        });

  // Memory: measure and refuse up front what the engine cannot hold (wasm: a 4 GiB heap that corrupts silently when
  // overrun; native/cpu: host RAM, where an overrun ends in swapping or the OOM killer)
  const extra = rer?.extraImages ?? 0;
  const budget = engineMemoryBudget(engine.backend);
  const memory = await estimateTrainingMemory(backbone, objective, B + extra, S, objective.twoViews, budget?.bytes);
  emit({ type: 'memory', message: `estimated engine memory ${(memory.engineBytes / 2 ** 30).toFixed(2)} GiB at batch ${B}${extra ? ` + ${extra} unrecognizable images` : ''}`, data: memory });
  if (budget && memory.engineBytes > budget.bytes) {
    optimizer.dispose();
    rer?.dispose();
    objective.dispose();
    backbone.dispose();
    throw new ConfigError(
      `this run needs about ${(memory.engineBytes / 2 ** 30).toFixed(2)} GiB of engine memory at batch ${B}${extra ? ` + ${extra}` : ''} ` +
        `(weights+optimizer ${(memory.fixedBytes / 2 ** 30).toFixed(2)} GiB, ${(memory.perImageBytes / 2 ** 20).toFixed(1)} MiB per image, head ${(memory.headBytes / 2 ** 30).toFixed(2)} GiB); ` +
        `${budget.what} ${(budget.bytes / 2 ** 30).toFixed(2)} GiB on the ${engine.backend} engine. Lower --batch-size to ${Math.max(1, memory.maxBatch - extra)} or below, or use a smaller --network/--width`,
    );
  }

  startOutput(cfg, out, opts);
  const { stepsPerEpoch, totalSteps, warmupSteps, endStep, baseLr } = runSchedule(cfg, loader.batchesPerEpoch);
  const start = opts.resume
    ? await resumeLatest({ out, backbone, headVars, objective, loader, emit }, (c, parts) => {
        optimizer.setState({ ...(c.meta.optimizer as Omit<OptimizerState, 'slots'>), slots: optimizerSlotNames(backbone).toCurrent(parts.opt) });
        if (rer) rer.setState({ ...(c.meta.quality as Omit<RecognizabilityState, 'arrays'>), arrays: parts.quality });
      })
    : 0;

  const save = (step: number) =>
    saveRunCheckpoint(out, step, { cfg, backbone: backboneWeights(backbone), headVars, optimizer: optimizer.getState(), objective: objective.getState(), quality: rer?.getState(), loader }, emit);

  const validation = new RunValidation(valSets, out, emit);
  const progress = new RunProgress(cfg, out, opts, stepsPerEpoch, totalSteps, endStep);
  let step = start;
  const before = tf.memory().numTensors;
  for (; step < endStep; step++) {
    if (progress.shouldStop()) break;
    const ts = performance.now();
    const batch = await loader.next();
    opts.hooks?.beforeStep?.(batch, step);
    lr.now = polynomialWarmupLr(step, baseLr, warmupSteps, totalSteps, cfg.lrPower);
    // BN running stats change in the forward: keep a copy so a bad step leaves no trace
    const bnBackup = backbone.batchNorms().flatMap((l) => [tf.clone(l.runningMean), tf.clone(l.runningVar)]);
    const { value, grads } = tf.variableGrads(() => lossOf(batch, step), vars);
    const loss = value.dataSync()[0]!;
    value.dispose();
    const backboneGrads: Record<string, tf.Tensor> = {};
    const headGrads: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) (backboneNames.has(k) ? backboneGrads : headGrads)[k] = g;
    const clipped = clipByGlobalNorm(backboneGrads, cfg.clipGradNorm);
    const finite = Number.isFinite(loss) && Number.isFinite(clipped.norm);
    if (finite) {
      optimizer.apply({ ...clipped.grads, ...headGrads }, lr.now);
      objective.afterStep(lr.now);
      rer?.afterStep();
    } else {
      backbone.batchNorms().forEach((l, i) => {
        l.runningMean.assign(bnBackup[2 * i]!);
        l.runningVar.assign(bnBackup[2 * i + 1]!);
      });
    }
    tf.dispose([...bnBackup, ...Object.values(grads)]);
    if (clipped.grads !== backboneGrads) tf.dispose(Object.values(clipped.grads));
    if (!finite) {
      if (progress.nonFinite(step, loss, clipped.norm)) {
        save(step);
        throw progress.divergedError(step);
      }
      continue;
    }

    const parts = rer?.lastParts();
    const riLog = parts ? { ri: { regression: +parts.regression.toFixed(5), diversion: +parts.diversion.toFixed(5), attention: +parts.attention.toFixed(5), meanIndex: +parts.meanIndex.toFixed(4) } } : {};
    progress.applied(step, (performance.now() - ts) / 1000, { loss, accuracy: objective.accuracy(), lr: lr.now, gradNorm: clipped.norm }, {}, riLog);
    const done = step + 1;
    if (progress.checkpointDue(done)) save(done);
    if (progress.validationDue(done)) await validation.run(backbone, done);
    if (step === start + 1 && tf.memory().numTensors > before + 2 * vars.length + 4) {
      emit({ type: 'warning', message: `tensor count grew from ${before} to ${tf.memory().numTensors} in the first steps` });
    }
  }
  save(step);
  await loader.close();
  const seconds = progress.seconds();
  if (progress.stoppedBy !== 'signal') await validation.run(backbone, step, true);
  try {
    return await finishRun({
      cfg,
      out,
      backbone,
      dataset,
      objectiveName: rer ? `${objective.name} + recognizability` : objective.name,
      progress,
      validation,
      backend: engine.backend,
      start,
      step,
      seconds,
      estimatedEngineBytes: memory.engineBytes,
      ...(rer
        ? {
            exportExtra: async (modelDir: string) => {
              const { fitLoss } = await rer.exportQualityModel(modelDir, dataset);
              emit({ type: 'info', message: `recognizability: RI head calibrated on the final model (Smooth-L1 ${fitLoss.toFixed(4)}), stored in ${join(modelDir, 'quality.json')}` });
            },
          }
        : {}),
    });
  } finally {
    optimizer.dispose();
    rer?.dispose();
    objective.dispose();
    backbone.dispose();
  }
}
