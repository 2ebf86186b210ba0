// `train(config)` with `workers > 1`: the loop of trainer.ts (same config, output files, checkpoints, resume, NaN
// protection, log, validation, summary) with the step run by a ReplicaGroup — one backbone replica per worker thread
// on its shard of the batch, SyncBN, the objective on the main thread over the whole batch, gradients summed through
// shared memory. Checkpoints have the single-worker layout, so a run can resume with another number of workers.
// The main thread keeps its own backbone copy, refreshed from replica 0 for validation, checkpoints and export.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { createBackbone, saveBackbone, type Backbone } from '@facet/backbones';
import { writeLabelMap, type FaceDataset } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { writeFileAtomic } from '../atomic.js';
import { latestCheckpoint, readCheckpoint, writeCheckpoint, type TypedArray } from '../checkpoint.js';
import { ConfigError, DEFAULT_CONFIG, effectiveLr, mergeConfig, type TrainConfig } from '../config.js';
import { makeLoader, openTrainingDataset, openValidationSet, validationLabel } from '../datasets.js';
import { estimateTrainingMemory, WASM_HEAP_BUDGET } from '../memory.js';
import { marginObjective, softmaxObjective, type Objective } from '../objectives.js';
import { adamw, sgd, type BackboneOptimizer, type OptimizerState } from '../optimizer.js';
import { plotRun } from '../plots.js';
import { polynomialWarmupLr } from '../schedule.js';
import { twoViewObjective } from '../ssl.js';
import type { StepReport, TrainEvent, TrainRunOptions, TrainSummary } from '../trainer.js';
import { rawPixelAccuracy, validateOn, type ValidationResult } from '../validation.js';
import { ReplicaGroup } from './replica-group.js';
import type { ReplicaState, StepPhases } from './protocol.js';

/** A step report with the replicas' tensor counts (they must stay flat, like the main thread's) and step phases. */
export interface ParallelStepReport extends StepReport {
  replicaTensors: number[];
  /** Where replica 0's step went (ms). */
  phases: StepPhases;
}

/** Config fields that define the model: a resume must not change them (as trainer.ts). */
const ARCH_KEYS: Array<keyof TrainConfig> = ['network', 'embeddingSize', 'inputSize', 'width', 'objective', 'subCenters', 'dataset'];

function prepareOutput(cfg: TrainConfig, out: string, opts: TrainRunOptions): void {
  const stored = join(out, 'config.json');
  if (opts.resume) {
    if (!existsSync(stored)) throw new ConfigError(`--resume ${out}: no run there (config.json missing); start a new run without --resume`);
    const prev = mergeConfig(DEFAULT_CONFIG, JSON.parse(readFileSync(stored, 'utf8')), stored);
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

function makeObjective(cfg: TrainConfig, numClasses: number, lrAt: () => number): Objective {
  if (cfg.objective === 'infonce' || cfg.objective === 'barlow') return twoViewObjective(cfg);
  if (cfg.objective === 'softmax' || cfg.head === 'softmax') return softmaxObjective(cfg, numClasses);
  return marginObjective(cfg, numClasses, lrAt);
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
      // a line cut by a crash mid-write: the step is redone after resume
    }
  }
  return rows;
}

/**
 * Checkpoint optimizer slots are keyed `<tf.Variable name>/<slot>` (trainer.ts); backbone variable names are
 * `<network>#<instance>/<parameter>`, the instance number depending on the process. Map both ways by parameter name.
 */
function slotNames(backbone: Backbone) {
  const paramOf = new Map<string, string>();
  const varOf = new Map<string, string>();
  for (const [param, v] of Object.entries(backbone.getWeights())) {
    paramOf.set((v as tf.Variable).name, param);
    varOf.set(param, (v as tf.Variable).name);
  }
  const split = (key: string) => [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/'))] as const;
  return {
    toCheckpoint: (slots: Record<string, Float32Array>) =>
      Object.fromEntries(Object.entries(slots).map(([k, a]) => [`${varOf.get(split(k)[0])}${split(k)[1]}`, a])),
    /** Checkpoint slots → (backbone slots by parameter name, the rest). */
    fromCheckpoint(slots: Record<string, Float32Array>) {
      const backboneSlots: Record<string, Float32Array> = {};
      const rest: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(slots)) {
        const [name, tag] = split(k);
        const param = paramOf.get(name) ?? /^[^/]+#\d+\/(.+)$/.exec(name)?.[1];
        if (param && varOf.has(param)) backboneSlots[`${param}${tag}`] = a;
        else rest[k] = a;
      }
      return { backboneSlots, rest };
    },
  };
}

export async function trainWithWorkers(config: TrainConfig, opts: TrainRunOptions = {}): Promise<TrainSummary> {
  const emit = (e: TrainEvent) => opts.onEvent?.(e);
  const cfg = mergeConfig(DEFAULT_CONFIG, config as unknown as Record<string, unknown>, 'config');
  const W = cfg.workers;
  const out = resolve(cfg.output);
  prepareOutput(cfg, out, opts);
  const engine = await initEngine({ backend: cfg.backend });
  emit({ type: 'info', message: `backend ${engine.backend}` });

  const dataset: FaceDataset = opts.dataset ?? (await openTrainingDataset(cfg, (m) => emit({ type: 'warning', message: m })));
  if (cfg.batchSize > dataset.size) {
    throw new ConfigError(`batchSize ${cfg.batchSize} is larger than the dataset (${dataset.size} images in ${dataset.name}); use a smaller --batch-size`);
  }
  if (cfg.batchSize < 2 * W) {
    throw new ConfigError(`batchSize ${cfg.batchSize} with workers=${W}: every worker needs at least 2 images per step (BatchNorm); use --batch-size ${2 * W} or more, or fewer --workers`);
  }
  const cores = availableParallelism();
  if (W > cores) {
    emit({ type: 'warning', message: `workers=${W} exceeds the ${cores} CPU cores: the replicas run in lock-step (synchronized BatchNorm), so each waits for the descheduled ones; use --workers ${cores} or fewer` });
  }
  const valSets = await Promise.all(cfg.valTargets.map(async (t) => ({ ...(await openValidationSet(t, cfg)), name: validationLabel(t) })));
  const backbone = createBackbone(cfg.network, { embeddingSize: cfg.embeddingSize, inputSize: cfg.inputSize, width: cfg.width, dropout: cfg.dropout, seed: cfg.seed });
  let lrNow = effectiveLr(cfg);
  const objective = makeObjective(cfg, dataset.numClasses, () => lrNow);
  const headVars = objective.variables();
  // the head's variables (softmax FC) are updated here; the backbone's by every replica with the same optimizer
  const headOptimizer: BackboneOptimizer = cfg.optimizer === 'sgd' ? sgd(headVars, { momentum: cfg.momentum, weightDecay: cfg.weightDecay }) : adamw(headVars, { weightDecay: cfg.weightDecay });
  const loader = makeLoader(dataset, cfg, objective.twoViews);
  const S = cfg.inputSize;
  const B = cfg.batchSize;
  const perWorker = Math.ceil(B / W);

  // Memory: each replica has its own 4 GiB wasm heap and runs ceil(B/W) images; the head lives in the main engine.
  const memory = await estimateTrainingMemory(backbone, objective, perWorker, S, objective.twoViews);
  const replicaBytes = memory.engineBytes - memory.headBytes;
  const mainBytes = memory.headBytes + memory.fixedBytes / 4;
  emit({
    type: 'memory',
    message: `estimated engine memory ${(replicaBytes / 2 ** 30).toFixed(2)} GiB per worker at ${perWorker} images per worker (batch ${B} over ${W} workers), ${(mainBytes / 2 ** 30).toFixed(2)} GiB on the main thread`,
    data: { ...memory, replicaBytes, mainBytes, workers: W },
  });
  if (engine.backend === 'wasm' && (replicaBytes > WASM_HEAP_BUDGET || mainBytes > WASM_HEAP_BUDGET)) {
    const perImage = memory.perImageBytes * (objective.twoViews ? 2 : 1);
    const baseBytes = replicaBytes - memory.fixedBytes - perImage * perWorker;
    const maxPerWorker = Math.max(0, Math.floor((WASM_HEAP_BUDGET - memory.fixedBytes - baseBytes) / (perImage || 1)));
    throw new ConfigError(
      replicaBytes > WASM_HEAP_BUDGET
        ? `this run needs about ${(replicaBytes / 2 ** 30).toFixed(2)} GiB of engine memory per worker at ${perWorker} images per worker ` +
            `(weights+optimizer ${(memory.fixedBytes / 2 ** 30).toFixed(2)} GiB, ${(memory.perImageBytes / 2 ** 20).toFixed(1)} MiB per image); ` +
            `each worker's wasm heap allows ${(WASM_HEAP_BUDGET / 2 ** 30).toFixed(2)} GiB. Lower --batch-size to ${Math.max(2 * W, maxPerWorker * W)} or below, raise --workers, or use a smaller --network/--width`
        : `the head needs about ${(memory.headBytes / 2 ** 30).toFixed(2)} GiB of engine memory on the main thread; the wasm heap allows ${(WASM_HEAP_BUDGET / 2 ** 30).toFixed(2)} GiB. Lower --sample-rate or the number of classes`,
    );
  }

  const group = await ReplicaGroup.start(backbone, {
    workers: W,
    batchSize: B,
    twoViews: objective.twoViews,
    backend: engine.backend as TrainConfig['backend'],
    optimizer: { name: cfg.optimizer, momentum: cfg.momentum, weightDecay: cfg.weightDecay },
    clipGradNorm: cfg.clipGradNorm,
  });
  try {
    emit({ type: 'info', message: `data-parallel: ${W} worker replicas, ${group.shards.map((s) => s.count).join(' + ')} images per step, synchronized BatchNorm; ${(group.sharedBytes / 2 ** 20).toFixed(0)} MiB shared memory` });
    startOutput(cfg, out, opts);
    const slots = slotNames(backbone);
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
        for (const v of headVars) {
          const a = c.arrays[`head/${v.name}`];
          if (!a) throw new Error(`checkpoint ${ck} has no head/${v.name}`);
          v.assign(tf.tensor(a as Float32Array, v.shape));
        }
        const optSlots: Record<string, Float32Array> = {};
        for (const [k, a] of Object.entries(c.arrays)) if (k.startsWith('opt/')) optSlots[k.slice(4)] = a as Float32Array;
        const { backboneSlots, rest } = slots.fromCheckpoint(optSlots);
        const optMeta = c.meta.optimizer as Omit<OptimizerState, 'slots'>;
        headOptimizer.setState({ ...optMeta, slots: rest });
        await group.setState({ weights: backboneWeights(backbone), optimizer: { kind: optMeta.kind, step: optMeta.step, slots: backboneSlots } });
        const headArrays: Record<string, Float32Array> = {};
        for (const [k, a] of Object.entries(c.arrays)) if (k.startsWith('objective/')) headArrays[k.slice(10)] = a as Float32Array;
        objective.setState({ ...(c.meta.objective as { kind: string; meta: Record<string, unknown> }), arrays: headArrays });
        loader.restore(c.meta.loader as ReturnType<typeof loader.state>);
        start = c.step;
        const kept = readLog(out).filter((r) => r.step! <= start);
        writeFileAtomic(join(out, 'log.jsonl'), kept.map((r) => JSON.stringify(r) + '\n').join(''));
        emit({ type: 'resume', message: `resumed from ${ck} at step ${start}` });
      } else {
        writeFileAtomic(join(out, 'log.jsonl'), '');
        emit({ type: 'resume', message: `no checkpoint in ${out}; starting from step 0` });
      }
    }

    // the main thread's backbone copy is refreshed from replica 0 only when it is read
    let syncedAt = start;
    let replicaState: ReplicaState | undefined;
    const syncBackbone = async (step: number) => {
      if (replicaState && syncedAt === step) return replicaState;
      replicaState = await group.syncBackbone();
      syncedAt = step;
      return replicaState;
    };

    const save = async (step: number) => {
      const state = await syncBackbone(step);
      const headState = headOptimizer.getState();
      const objState = objective.getState();
      const arrays: Record<string, TypedArray> = {};
      for (const [k, a] of Object.entries(state.weights)) arrays[`backbone/${k}`] = a;
      for (const v of headVars) arrays[`head/${v.name}`] = v.dataSync() as Float32Array;
      for (const [k, a] of Object.entries({ ...slots.toCheckpoint(state.optimizer.slots), ...headState.slots })) arrays[`opt/${k}`] = a;
      for (const [k, a] of Object.entries(objState.arrays)) arrays[`objective/${k}`] = a;
      const path = writeCheckpoint(out, step, {
        meta: {
          config: cfg,
          optimizer: { kind: state.optimizer.kind, step: state.optimizer.step },
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
      if (!valSets.length) return;
      await syncBackbone(step);
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
    let before: number[] | undefined;
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
      const r = await group.step(batch.images, batch.views2, lrNow, (emb, emb2) => objective.loss(emb, batch.labels, emb2), headVars);
      const loss = r.loss;
      if (r.finite) {
        headOptimizer.apply(r.headGrads, lrNow);
        objective.afterStep(lrNow);
        consecutiveBad = 0;
      } else {
        skipped++;
        consecutiveBad++;
        emit({ type: 'nan', message: `step ${step + 1}: loss ${loss}, gradient norm ${r.gradNorm}: update skipped, weights and BN statistics kept at the last good state`, data: { step: step + 1, loss } });
        appendFileSync(join(out, 'log.jsonl'), JSON.stringify({ step: step + 1, event: 'non-finite', loss: String(loss) }) + '\n');
      }
      tf.dispose(Object.values(r.headGrads));
      if (!r.finite) {
        if (consecutiveBad >= 5) {
          await save(step);
          throw new Error(`training diverged: ${consecutiveBad} consecutive non-finite steps (last at step ${step + 1}); the last good state is saved in ${out}/checkpoints. Lower --lr or check the data`);
        }
        continue;
      }

      const dt = (performance.now() - ts) / 1000;
      rate = rate === 0 ? B / dt : 0.9 * rate + 0.1 * (B / dt);
      if (Number.isNaN(firstLoss)) firstLoss = loss;
      lastLoss = loss;
      lastAcc = objective.accuracy();
      const done = step + 1;
      const epoch = done / stepsPerEpoch;
      const report: ParallelStepReport = { step: done, totalSteps: endStep, epoch, loss, accuracy: lastAcc, lr: lrNow, gradNorm: r.gradNorm, imagesPerSec: rate, etaSeconds: ((endStep - done) * B) / rate, replicaTensors: r.replicaTensors, phases: r.phases };
      appendFileSync(join(out, 'log.jsonl'), JSON.stringify({ step: done, epoch: +epoch.toFixed(4), loss, accuracy: lastAcc, lr: lrNow, gradNorm: r.gradNorm, imagesPerSec: +rate.toFixed(2), seconds: +dt.toFixed(4) }) + '\n');
      opts.onStep?.(report);
      if (cfg.checkpointEvery > 0 && done % cfg.checkpointEvery === 0 && done < endStep) await save(done);
      if (cfg.verbose > 0 && done % cfg.verbose === 0 && done < endStep) await runValidation(done);
      const counts = [tf.memory().numTensors, ...r.replicaTensors];
      if (!before) before = counts;
      else if (step === start + 2 && counts.some((c, i) => c > before![i]! + 4)) {
        emit({ type: 'warning', message: `tensor count grew from ${before.join('/')} to ${counts.join('/')} (main/replicas) in the first steps` });
      }
    }
    await save(step);
    await loader.close();
    const seconds = (performance.now() - t0) / 1000;
    if (stoppedBy !== 'signal') await runValidation(step, true);
    await syncBackbone(step);
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
      memory: { estimatedEngineBytes: replicaBytes },
    };
    writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2));
    return summary;
  } finally {
    await group.close();
    await loader.close().catch(() => undefined);
    headOptimizer.dispose();
    objective.dispose();
    backbone.dispose();
  }
}

function backboneWeights(backbone: Backbone): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(backbone.getWeights())) out[k] = t.dataSync() as Float32Array;
  return out;
}
