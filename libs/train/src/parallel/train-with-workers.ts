// `train(config)` with `workers > 1`: the loop of trainer.ts (same config, output files, checkpoints, resume, NaN
// protection, log, validation, summary) with the step run by a ReplicaGroup — one backbone replica per worker thread
// on its shard of the batch, SyncBN, the objective on the main thread over the whole batch, gradients summed through
// shared memory. Checkpoints have the single-worker layout, so a run can resume with another number of workers.
// The main thread keeps its own backbone copy, refreshed from replica 0 for validation, checkpoints and export.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { initEngine, tf } from '@facet/engine';
import { batchNormFrozen, ConfigError, DEFAULT_CONFIG, mergeConfig, type TrainConfig } from '../config.js';
import { makeLoader } from '../datasets.js';
import { engineMemoryBudget, estimateTrainingMemory, replicaMemory, replicaMemoryRefusal } from '../memory.js';
import { makeOptimizer, type BackboneOptimizer, type OptimizerState } from '../optimizer.js';
import { optimizerSlotNames } from '../optimizer-slots.js';
import { backboneWeights, resumeLatest, runSchedule, saveRunCheckpoint } from '../run-checkpoint.js';
import { prepareOutput, startOutput } from '../run-files.js';
import { openRunInputs } from '../run-inputs.js';
import { finishRun, RunProgress, RunValidation } from '../run-progress.js';
import { polynomialWarmupLr } from '../schedule.js';
import type { StepReport, TrainEvent, TrainRunOptions, TrainSummary } from '../trainer.js';
import { ReplicaGroup } from './replica-group.js';
import type { ReplicaState, StepPhases } from './protocol.js';

/** A step report with the replicas' tensor counts (they must stay flat, like the main thread's) and step phases. */
export interface ParallelStepReport extends StepReport {
  replicaTensors: number[];
  /** Where replica 0's step went (ms). */
  phases: StepPhases;
}

export async function trainWithWorkers(config: TrainConfig, opts: TrainRunOptions = {}): Promise<TrainSummary> {
  const emit = (e: TrainEvent) => opts.onEvent?.(e);
  const cfg = mergeConfig(DEFAULT_CONFIG, config as unknown as Record<string, unknown>, 'config');
  const W = cfg.workers;
  const out = resolve(cfg.output);
  prepareOutput(cfg, out, opts);
  const engine = await initEngine({ backend: cfg.backend });
  emit({ type: 'info', message: `backend ${engine.backend}` });

  if (cfg.batchSize < 2 * W) {
    throw new ConfigError(`batchSize ${cfg.batchSize} with workers=${W}: every worker needs at least 2 images per step (BatchNorm); use --batch-size ${2 * W} or more, or fewer --workers`);
  }
  const cores = availableParallelism();
  if (W > cores) {
    emit({ type: 'warning', message: `workers=${W} exceeds the ${cores} CPU cores: the replicas run in lock-step (synchronized BatchNorm), so each waits for the descheduled ones; use --workers ${cores} or fewer` });
  }
  const { dataset, valSets, backbone, objective, lr } = await openRunInputs(cfg, opts);
  const headVars = objective.variables();
  // the head's variables (softmax FC) are updated here; the backbone's by every replica with the same optimizer
  const headOptimizer: BackboneOptimizer = makeOptimizer(cfg, headVars);
  const loader = makeLoader(dataset, cfg, objective.twoViews);
  const S = cfg.inputSize;
  const B = cfg.batchSize;
  const perWorker = Math.ceil(B / W);

  // Memory. wasm: each replica has its own 4 GiB heap and runs ceil(B/W) images; the head lives in the main engine.
  // native/cpu: replicas and main thread share the host's RAM, so their sum must fit.
  const memory = await estimateTrainingMemory(backbone, objective, perWorker, S, objective.twoViews);
  const { replicaBytes, mainBytes } = replicaMemory(memory);
  emit({
    type: 'memory',
    message: `estimated engine memory ${(replicaBytes / 2 ** 30).toFixed(2)} GiB per worker at ${perWorker} images per worker (batch ${B} over ${W} workers), ${(mainBytes / 2 ** 30).toFixed(2)} GiB on the main thread`,
    data: { ...memory, replicaBytes, mainBytes, workers: W },
  });
  const refusal = replicaMemoryRefusal(memory, { workers: W, perWorker, twoViews: objective.twoViews, backend: engine.backend, budget: engineMemoryBudget(engine.backend) });
  if (refusal) throw new ConfigError(refusal);

  const frozenBatchNorm = batchNormFrozen(cfg);
  const group = await ReplicaGroup.start(backbone, {
    workers: W,
    batchSize: B,
    twoViews: objective.twoViews,
    frozenBatchNorm,
    backend: engine.backend as TrainConfig['backend'],
    optimizer: { name: cfg.optimizer, momentum: cfg.momentum, weightDecay: cfg.weightDecay },
    clipGradNorm: cfg.clipGradNorm,
  });
  try {
    emit({ type: 'info', message: `data-parallel: ${W} worker replicas, ${group.shards.map((s) => s.count).join(' + ')} images per step, ${frozenBatchNorm ? 'frozen BatchNorm statistics' : 'synchronized BatchNorm'}; ${(group.sharedBytes / 2 ** 20).toFixed(0)} MiB shared memory` });
    startOutput(cfg, out, opts);
    const slots = optimizerSlotNames(backbone);
    const { stepsPerEpoch, totalSteps, warmupSteps, endStep, baseLr } = runSchedule(cfg, loader.batchesPerEpoch);
    const start = opts.resume
      ? await resumeLatest({ out, backbone, headVars, objective, loader, emit }, async (c, parts) => {
          const { backboneSlots, rest } = slots.fromCheckpoint(parts.opt);
          const optMeta = c.meta.optimizer as Omit<OptimizerState, 'slots'>;
          headOptimizer.setState({ ...optMeta, slots: rest });
          await group.setState({ weights: backboneWeights(backbone), optimizer: { kind: optMeta.kind, step: optMeta.step, slots: backboneSlots } });
        })
      : 0;

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
      const optimizer = { kind: state.optimizer.kind, step: state.optimizer.step, slots: { ...slots.toCheckpoint(state.optimizer.slots), ...headOptimizer.getState().slots } };
      saveRunCheckpoint(out, step, { cfg, backbone: state.weights, headVars, optimizer, objective: objective.getState(), loader }, emit);
    };

    const validation = new RunValidation(valSets, out, emit);
    const runValidation = async (step: number, final = false) => {
      if (validation.empty) return;
      await syncBackbone(step);
      await validation.run(backbone, step, final);
    };

    const progress = new RunProgress(cfg, out, opts, stepsPerEpoch, totalSteps, endStep);
    let step = start;
    let before: number[] | undefined;
    for (; step < endStep; step++) {
      if (progress.shouldStop()) break;
      const ts = performance.now();
      const batch = await loader.next();
      opts.hooks?.beforeStep?.(batch, step);
      lr.now = polynomialWarmupLr(step, baseLr, warmupSteps, totalSteps, cfg.lrPower);
      // the replicas hold the backbone's optimizer: they get its scaled rate, the head keeps the full one
      const r = await group.step(batch.images, batch.views2, lr.now * cfg.backboneLrScale, (emb, emb2) => objective.loss(emb, batch.labels, emb2), headVars);
      if (r.finite) {
        headOptimizer.apply(r.headGrads, lr.now);
        objective.afterStep(lr.now);
      }
      tf.dispose(Object.values(r.headGrads));
      if (!r.finite) {
        if (progress.nonFinite(step, r.loss, r.gradNorm)) {
          await save(step);
          throw progress.divergedError(step);
        }
        continue;
      }
      progress.applied<ParallelStepReport>(step, (performance.now() - ts) / 1000, { loss: r.loss, accuracy: objective.accuracy(), lr: lr.now, gradNorm: r.gradNorm }, { replicaTensors: r.replicaTensors, phases: r.phases });
      const done = step + 1;
      if (progress.checkpointDue(done)) await save(done);
      if (progress.validationDue(done)) await runValidation(done);
      const counts = [tf.memory().numTensors, ...r.replicaTensors];
      if (!before) before = counts;
      else if (step === start + 2 && counts.some((c, i) => c > before![i]! + 4)) {
        emit({ type: 'warning', message: `tensor count grew from ${before.join('/')} to ${counts.join('/')} (main/replicas) in the first steps` });
      }
    }
    await save(step);
    await loader.close();
    const seconds = progress.seconds();
    if (progress.stoppedBy !== 'signal') await runValidation(step, true);
    await syncBackbone(step);
    return await finishRun({
      cfg,
      out,
      backbone,
      dataset,
      objectiveName: objective.name,
      progress,
      validation,
      backend: engine.backend,
      start,
      step,
      seconds,
      estimatedEngineBytes: replicaBytes,
    });
  } finally {
    await group.close();
    await loader.close().catch(() => undefined);
    headOptimizer.dispose();
    objective.dispose();
    backbone.dispose();
  }
}
