// `train(config)`: insightface's train_v2.py loop on tfjs — backbone → objective (margin head via Partial FC,
// softmax, or a two-view loss) → clipped backbone gradients → SGD/AdamW, with a per-step polynomial-warmup LR,
// atomic checkpoints that resume bit-for-bit, NaN protection and a JSON-lines log.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createBackbone, saveBackbone, type Backbone } from '@facet/backbones';
import { writeLabelMap, type Batch, type FaceDataset } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { writeFileAtomic } from './atomic.js';
import { latestCheckpoint, readCheckpoint, writeCheckpoint, type TypedArray } from './checkpoint.js';
import { ConfigError, effectiveLr, mergeConfig, DEFAULT_CONFIG, type TrainConfig } from './config.js';
import { makeLoader, openTrainingDataset, openValidationSet, validationLabel } from './datasets.js';
import { estimateTrainingMemory, WASM_HEAP_BUDGET } from './memory.js';
import { marginObjective, softmaxObjective, type Objective } from './objectives.js';
import { adamw, clipByGlobalNorm, sgd, type BackboneOptimizer, type OptimizerState } from './optimizer.js';
import { plotRun } from './plots.js';
import { polynomialWarmupLr } from './schedule.js';
import { rawPixelAccuracy, validateOn, type ValidationResult } from './validation.js';
import { twoViewObjective } from './ssl.js';
import { trainWithWorkers } from './parallel/train-with-workers.js';

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
  hooks?: { beforeStep?: (batch: Batch, step: number) => void };
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

/** Config fields that define the model: a resume must not change them. */
const ARCH_KEYS: Array<keyof TrainConfig> = ['network', 'embeddingSize', 'inputSize', 'width', 'objective', 'subCenters', 'dataset'];

function prepareOutput(cfg: TrainConfig, out: string, opts: TrainRunOptions): void {
  const stored = join(out, 'config.json');
  if (opts.resume) {
    if (!existsSync(stored)) throw new ConfigError(`--resume ${out}: no run there (config.json missing); start a new run without --resume`);
    const prev = mergeConfig(DEFAULT_CONFIG, JSON.parse(readFileSync(stored, 'utf8')), `${stored}`);
    const diff = ARCH_KEYS.filter((k) => JSON.stringify(prev[k]) !== JSON.stringify(cfg[k]));
    if (diff.length) {
      const show = (c: TrainConfig) => diff.map((k) => `${k}=${JSON.stringify(c[k])}`).join(', ');
      throw new ConfigError(`--resume ${out}: the checkpoint is a different model (${show(prev)}) than this config (${show(cfg)}); resume with the same settings or train into a new --output`);
    }
    return;
  }
  const holdsRun = existsSync(stored) || existsSync(join(out, 'log.jsonl')) || existsSync(join(out, 'checkpoints'));
  if (holdsRun && !opts.force) {
    throw new ConfigError(`output directory ${out} holds another run; pass --resume to continue it, --force to overwrite it, or choose another --output`);
  }
}

/** Called once every check has passed: only then is anything written to the output directory. */
function startOutput(cfg: TrainConfig, out: string, opts: TrainRunOptions): void {
  if (opts.resume) return;
  mkdirSync(out, { recursive: true });
  if (opts.force) {
    rmSync(join(out, 'checkpoints'), { recursive: true, force: true });
    rmSync(join(out, 'val.jsonl'), { force: true });
  }
  writeFileSync(join(out, 'log.jsonl'), '');
  writeFileAtomic(join(out, 'config.json'), JSON.stringify(cfg, null, 2));
}

function makeOptimizer(cfg: TrainConfig, vars: tf.Variable[]): BackboneOptimizer {
  return cfg.optimizer === 'sgd' ? sgd(vars, { momentum: cfg.momentum, weightDecay: cfg.weightDecay }) : adamw(vars, { weightDecay: cfg.weightDecay });
}

function makeObjective(cfg: TrainConfig, numClasses: number, lrAt: () => number): Objective {
  if (cfg.objective === 'infonce' || cfg.objective === 'barlow') return twoViewObjective(cfg);
  if (cfg.objective === 'softmax' || cfg.head === 'softmax') return softmaxObjective(cfg, numClasses);
  return marginObjective(cfg, numClasses, lrAt);
}

function modelWeights(backbone: Backbone, objective: Objective): Record<string, TypedArray> {
  const out: Record<string, TypedArray> = {};
  for (const [k, t] of Object.entries(backbone.getWeights())) out[`backbone/${k}`] = t.dataSync() as Float32Array;
  for (const v of objective.variables()) out[`head/${v.name}`] = v.dataSync() as Float32Array;
  return out;
}

function readLog(out: string): Array<Record<string, number>> {
  const path = join(out, 'log.jsonl');
  if (!existsSync(path)) return [];
  const rows: Array<Record<string, number>> = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line));
    } catch {
      // a line cut by a crash mid-write: ignore it, the step is redone after resume
    }
  }
  return rows;
}

export async function train(config: TrainConfig, opts: TrainRunOptions = {}): Promise<TrainSummary> {
  const emit = (e: TrainEvent) => opts.onEvent?.(e);
  const cfg = mergeConfig(DEFAULT_CONFIG, config as unknown as Record<string, unknown>, 'config');
  // data-parallel replicas on worker threads (parallel/): the same loop, with the step spread over the workers
  if (cfg.workers > 1) return trainWithWorkers(cfg, opts);
  const out = resolve(cfg.output);
  prepareOutput(cfg, out, opts);
  const engine = await initEngine({ backend: cfg.backend });
  emit({ type: 'info', message: `backend ${engine.backend}` });

  const dataset: FaceDataset = opts.dataset ?? (await openTrainingDataset(cfg, (m) => emit({ type: 'warning', message: m })));
  if (cfg.batchSize > dataset.size) {
    throw new ConfigError(`batchSize ${cfg.batchSize} is larger than the dataset (${dataset.size} images in ${dataset.name}); use a smaller --batch-size`);
  }
  const valSets = await Promise.all(cfg.valTargets.map(async (t) => ({ ...(await openValidationSet(t, cfg)), name: validationLabel(t) })));
  const backbone = createBackbone(cfg.network, { embeddingSize: cfg.embeddingSize, inputSize: cfg.inputSize, width: cfg.width, dropout: cfg.dropout, seed: cfg.seed });
  let lrNow = effectiveLr(cfg);
  const objective = makeObjective(cfg, dataset.numClasses, () => lrNow);
  const vars = [...backbone.trainableVariables(), ...objective.variables()];
  const backboneNames = new Set(backbone.trainableVariables().map((v) => v.name));
  const optimizer = makeOptimizer(cfg, vars);
  const loader = makeLoader(dataset, cfg, objective.twoViews);
  const S = cfg.inputSize;
  const B = cfg.batchSize;

  const toTensor = (images: Float32Array) => tf.tensor4d(images, [B, S, S, 3]);
  const lossOf = (batch: Batch) =>
    tf.tidy(() => {
      const emb = backbone.apply(toTensor(batch.images), { training: true });
      const emb2 = objective.twoViews && batch.views2 ? backbone.apply(toTensor(batch.views2), { training: true }) : undefined;
      return objective.loss(emb, batch.labels, emb2);
    });

  // Memory: the wasm heap is 4 GiB and silent corruption follows an overrun, so measure and refuse up front.
  const memory = await estimateTrainingMemory(backbone, objective, B, S, objective.twoViews);
  emit({ type: 'memory', message: `estimated engine memory ${(memory.engineBytes / 2 ** 30).toFixed(2)} GiB at batch ${B}`, data: memory });
  if (engine.backend === 'wasm' && memory.engineBytes > WASM_HEAP_BUDGET) {
    throw new ConfigError(
      `this run needs about ${(memory.engineBytes / 2 ** 30).toFixed(2)} GiB of engine memory at batch ${B} ` +
        `(weights+optimizer ${(memory.fixedBytes / 2 ** 30).toFixed(2)} GiB, ${(memory.perImageBytes / 2 ** 20).toFixed(1)} MiB per image, head ${(memory.headBytes / 2 ** 30).toFixed(2)} GiB); ` +
        `the wasm heap allows ${(WASM_HEAP_BUDGET / 2 ** 30).toFixed(2)} GiB. Lower --batch-size to ${Math.max(1, memory.maxBatch)} or below, or use a smaller --network/--width`,
    );
  }

  startOutput(cfg, out, opts);
  const stepsPerEpoch = loader.batchesPerEpoch;
  const totalSteps = Math.max(1, Math.floor(stepsPerEpoch * cfg.numEpoch));
  const warmupSteps = Math.floor(stepsPerEpoch * cfg.warmupEpochs);
  const endStep = cfg.maxSteps > 0 ? Math.min(cfg.maxSteps, totalSteps) : totalSteps;
  const baseLr = effectiveLr(cfg);

  let start = 0;
  if (opts.resume) {
    const ck = latestCheckpoint(out);
    if (ck) {
      const c = readCheckpoint(ck);
      const weights: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(c.arrays)) if (k.startsWith('backbone/')) weights[k.slice(9)] = a as Float32Array;
      backbone.setWeights(weights);
      for (const v of objective.variables()) {
        const a = c.arrays[`head/${v.name}`];
        if (!a) throw new Error(`checkpoint ${ck} has no head/${v.name}`);
        v.assign(tf.tensor(a as Float32Array, v.shape));
      }
      const optSlots: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(c.arrays)) if (k.startsWith('opt/')) optSlots[k.slice(4)] = a as Float32Array;
      optimizer.setState({ ...(c.meta.optimizer as Omit<OptimizerState, 'slots'>), slots: optSlots });
      const headArrays: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(c.arrays)) if (k.startsWith('objective/')) headArrays[k.slice(10)] = a as Float32Array;
      objective.setState({ ...(c.meta.objective as { kind: string; meta: Record<string, unknown> }), arrays: headArrays });
      loader.restore(c.meta.loader as ReturnType<typeof loader.state>);
      start = c.step;
      // the log continues from the checkpoint: drop steps that will be redone
      const kept = readLog(out).filter((r) => r.step! <= start);
      writeFileAtomic(join(out, 'log.jsonl'), kept.map((r) => JSON.stringify(r) + '\n').join(''));
      emit({ type: 'resume', message: `resumed from ${ck} at step ${start}` });
    } else {
      writeFileAtomic(join(out, 'log.jsonl'), '');
      emit({ type: 'resume', message: `no checkpoint in ${out}; starting from step 0` });
    }
  }

  const save = (step: number) => {
    const optState = optimizer.getState();
    const objState = objective.getState();
    const arrays: Record<string, TypedArray> = { ...modelWeights(backbone, objective) };
    for (const [k, a] of Object.entries(optState.slots)) arrays[`opt/${k}`] = a;
    for (const [k, a] of Object.entries(objState.arrays)) arrays[`objective/${k}`] = a;
    const path = writeCheckpoint(out, step, {
      meta: {
        config: cfg,
        optimizer: { kind: optState.kind, step: optState.step },
        objective: { kind: objState.kind, meta: objState.meta },
        loader: loader.state(),
      },
      arrays,
    });
    emit({ type: 'checkpoint', message: `checkpoint ${path}` });
  };

  const validation: ValidationResult[] = [];
  const evalPlots: string[] = [];
  const runValidation = async (step: number, final = false) => {
    for (const set of valSets) {
      const { plots, ...r } = await validateOn(backbone, set, step, final ? join(out, 'plots') : undefined);
      if (plots) evalPlots.push(...plots);
      validation.push(r);
      appendFileSync(join(out, 'val.jsonl'), JSON.stringify(r) + '\n');
      emit({ type: 'validation', message: `step ${step} ${r.target}: accuracy ${(100 * r.accuracy).toFixed(2)} ± ${(100 * r.std).toFixed(2)} %`, data: r });
    }
  };

  const t0 = performance.now();
  let firstLoss = NaN;
  let lastLoss = NaN;
  let lastAcc: number | undefined;
  let skipped = 0;
  let consecutiveBad = 0;
  let rate = 0;
  let stoppedBy: TrainSummary['stoppedBy'] = cfg.maxSteps > 0 && cfg.maxSteps < totalSteps ? 'maxSteps' : 'done';
  let step = start;
  const before = tf.memory().numTensors;
  for (; step < endStep; step++) {
    if (opts.signal?.aborted) {
      stoppedBy = 'signal';
      break;
    }
    if (cfg.timeBudget > 0 && (performance.now() - t0) / 1000 > cfg.timeBudget) {
      stoppedBy = 'timeBudget';
      break;
    }
    const ts = performance.now();
    const batch = await loader.next();
    opts.hooks?.beforeStep?.(batch, step);
    lrNow = polynomialWarmupLr(step, baseLr, warmupSteps, totalSteps, cfg.lrPower);
    // BN running stats change in the forward: keep a copy so a bad step leaves no trace
    const bnBackup = backbone.batchNorms().flatMap((l) => [tf.clone(l.runningMean), tf.clone(l.runningVar)]);
    const { value, grads } = tf.variableGrads(() => lossOf(batch), vars);
    const loss = value.dataSync()[0]!;
    value.dispose();
    const backboneGrads: Record<string, tf.Tensor> = {};
    const headGrads: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) (backboneNames.has(k) ? backboneGrads : headGrads)[k] = g;
    const clipped = clipByGlobalNorm(backboneGrads, cfg.clipGradNorm);
    const finite = Number.isFinite(loss) && Number.isFinite(clipped.norm);
    if (finite) {
      optimizer.apply({ ...clipped.grads, ...headGrads }, lrNow);
      objective.afterStep(lrNow);
      consecutiveBad = 0;
    } else {
      backbone.batchNorms().forEach((l, i) => {
        l.runningMean.assign(bnBackup[2 * i]!);
        l.runningVar.assign(bnBackup[2 * i + 1]!);
      });
      skipped++;
      consecutiveBad++;
      emit({ type: 'nan', message: `step ${step + 1}: loss ${loss}, gradient norm ${clipped.norm}: update skipped, weights and BN statistics kept at the last good state`, data: { step: step + 1, loss } });
      appendFileSync(join(out, 'log.jsonl'), JSON.stringify({ step: step + 1, event: 'non-finite', loss: String(loss) }) + '\n');
      if (consecutiveBad >= 5) {
        tf.dispose([...bnBackup, ...Object.values(grads)]);
        if (clipped.grads !== backboneGrads) tf.dispose(Object.values(clipped.grads));
        save(step);
        throw new Error(`training diverged: ${consecutiveBad} consecutive non-finite steps (last at step ${step + 1}); the last good state is saved in ${out}/checkpoints. Lower --lr or check the data`);
      }
    }
    tf.dispose([...bnBackup, ...Object.values(grads)]);
    if (clipped.grads !== backboneGrads) tf.dispose(Object.values(clipped.grads));
    if (!finite) continue;

    const dt = (performance.now() - ts) / 1000;
    rate = rate === 0 ? B / dt : 0.9 * rate + 0.1 * (B / dt);
    if (Number.isNaN(firstLoss)) firstLoss = loss;
    lastLoss = loss;
    lastAcc = objective.accuracy();
    const done = step + 1;
    const epoch = done / stepsPerEpoch;
    const report: StepReport = { step: done, totalSteps: endStep, epoch, loss, accuracy: lastAcc, lr: lrNow, gradNorm: clipped.norm, imagesPerSec: rate, etaSeconds: ((endStep - done) * B) / rate };
    appendFileSync(join(out, 'log.jsonl'), JSON.stringify({ step: done, epoch: +epoch.toFixed(4), loss, accuracy: lastAcc, lr: lrNow, gradNorm: clipped.norm, imagesPerSec: +rate.toFixed(2), seconds: +dt.toFixed(4) }) + '\n');
    opts.onStep?.(report);
    if (cfg.checkpointEvery > 0 && done % cfg.checkpointEvery === 0 && done < endStep) save(done);
    if (cfg.verbose > 0 && done % cfg.verbose === 0 && done < endStep) await runValidation(done);
    if (step === start + 1 && tf.memory().numTensors > before + 2 * vars.length + 4) {
      emit({ type: 'warning', message: `tensor count grew from ${before} to ${tf.memory().numTensors} in the first steps` });
    }
  }
  save(step);
  await loader.close();
  const seconds = (performance.now() - t0) / 1000;
  if (stoppedBy !== 'signal') await runValidation(step, true);
  const modelDir = join(out, 'model');
  await saveBackbone(backbone, modelDir, { classNames: dataset.classNames, trainedSteps: step, objective: objective.name });
  await writeLabelMap(modelDir, dataset);
  const rawPixelBaseline = valSets.map((s) => rawPixelAccuracy(s));
  const plots = [...(await plotRun(out)), ...evalPlots];
  const summary: TrainSummary = {
    output: out,
    modelDir,
    config: cfg,
    backend: engine.backend,
    objective: objective.name,
    numClasses: dataset.numClasses,
    numImages: dataset.size,
    steps: step,
    totalSteps,
    epochs: step / stepsPerEpoch,
    seconds,
    imagesPerSec: ((step - start) * B) / seconds,
    firstLoss,
    finalLoss: lastLoss,
    finalAccuracy: lastAcc,
    validation,
    rawPixelBaseline,
    plots,
    skippedSteps: skipped,
    stoppedBy,
    memory: { estimatedEngineBytes: memory.engineBytes },
  };
  writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2));
  optimizer.dispose();
  objective.dispose();
  backbone.dispose();
  return summary;
}
