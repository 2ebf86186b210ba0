// What the single-engine trainer and the data-parallel trainer share about a run's steps and checkpoints: the step
// schedule, the checkpoint layout (arrays under backbone/, head/, opt/, objective/, quality/; meta with the config,
// optimizer step, objective and loader state) and resuming from the latest checkpoint. Only where the backbone and
// optimizer state come from differs (the main engine, or the replicas), so those are the callers' part.
import type { Backbone } from '@facet/backbones';
import type { BatchLoader } from '@facet/data';
import { tf } from '@facet/engine';
import { latestCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointContent, type TypedArray } from './checkpoint.js';
import { effectiveLr, type TrainConfig } from './config.js';
import type { ObjectiveState } from './objectives.js';
import { truncateLog } from './run-files.js';
import { splitCheckpoint } from './run-progress.js';
import type { TrainEvent } from './trainer.js';

export interface RunSchedule {
  stepsPerEpoch: number;
  totalSteps: number;
  warmupSteps: number;
  /** Where this invocation stops: the schedule's end, or `maxSteps` when set. */
  endStep: number;
  baseLr: number;
}

export function runSchedule(cfg: TrainConfig, stepsPerEpoch: number): RunSchedule {
  const totalSteps = Math.max(1, Math.floor(stepsPerEpoch * cfg.numEpoch));
  return {
    stepsPerEpoch,
    totalSteps,
    warmupSteps: Math.floor(stepsPerEpoch * cfg.warmupEpochs),
    endStep: cfg.maxSteps > 0 ? Math.min(cfg.maxSteps, totalSteps) : totalSteps,
    baseLr: effectiveLr(cfg),
  };
}

/** The state of a run at a step, as the checkpoint stores it. */
export interface RunState {
  cfg: TrainConfig;
  /** Backbone weights by variable name. */
  backbone: Record<string, TypedArray>;
  headVars: tf.Variable[];
  /** Optimizer step and slots, the slots already under their checkpoint names. */
  optimizer: { kind: string; step: number; slots: Record<string, TypedArray> };
  objective: ObjectiveState;
  /** The recognizability addition's state (RI head, unrecognizable-faces center). */
  quality?: { kind: string; meta: Record<string, unknown>; arrays: Record<string, TypedArray> };
  loader: BatchLoader;
}

/** Write the run's checkpoint for `step` (atomically) and say so. */
export function saveRunCheckpoint(out: string, step: number, s: RunState, emit: (e: TrainEvent) => void): string {
  const arrays: Record<string, TypedArray> = {};
  for (const [k, a] of Object.entries(s.backbone)) arrays[`backbone/${k}`] = a;
  for (const v of s.headVars) arrays[`head/${v.name}`] = v.dataSync() as Float32Array;
  for (const [k, a] of Object.entries(s.optimizer.slots)) arrays[`opt/${k}`] = a;
  for (const [k, a] of Object.entries(s.objective.arrays)) arrays[`objective/${k}`] = a;
  for (const [k, a] of Object.entries(s.quality?.arrays ?? {})) arrays[`quality/${k}`] = a;
  const path = writeCheckpoint(out, step, {
    meta: {
      config: s.cfg,
      optimizer: { kind: s.optimizer.kind, step: s.optimizer.step },
      objective: { kind: s.objective.kind, meta: s.objective.meta },
      ...(s.quality ? { quality: { kind: s.quality.kind, meta: s.quality.meta } } : {}),
      loader: s.loader.state(),
    },
    arrays,
  });
  emit({ type: 'checkpoint', message: `checkpoint ${path}` });
  return path;
}

/** Backbone weights by variable name, read back from the engine. */
export function backboneWeights(backbone: Backbone): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(backbone.getWeights())) out[k] = t.dataSync() as Float32Array;
  return out;
}

export type CheckpointParts = ReturnType<typeof splitCheckpoint>;

/**
 * Restore the latest checkpoint of `out`: backbone weights, head variables, objective and loader, the log cut back
 * to its step; `restoreRest` restores what the caller keeps elsewhere (optimizer, replicas, recognizability).
 * Returns the step to continue from (0 when there is no checkpoint).
 */
export async function resumeLatest(
  a: { out: string; backbone: Backbone; headVars: tf.Variable[]; objective: { setState(s: ObjectiveState): void }; loader: BatchLoader; emit: (e: TrainEvent) => void },
  restoreRest: (c: CheckpointContent, parts: CheckpointParts) => void | Promise<void>,
): Promise<number> {
  const ck = latestCheckpoint(a.out);
  if (!ck) {
    truncateLog(a.out, 0);
    a.emit({ type: 'resume', message: `no checkpoint in ${a.out}; starting from step 0` });
    return 0;
  }
  const c = readCheckpoint(ck);
  const parts = splitCheckpoint(c);
  a.backbone.setWeights(parts.backbone);
  for (const v of a.headVars) {
    const arr = parts.head[v.name];
    if (!arr) throw new Error(`checkpoint ${ck} has no head/${v.name}`);
    v.assign(tf.tensor(arr, v.shape));
  }
  await restoreRest(c, parts);
  a.objective.setState({ ...(c.meta.objective as { kind: string; meta: Record<string, unknown> }), arrays: parts.objective });
  a.loader.restore(c.meta.loader as ReturnType<BatchLoader['state']>);
  truncateLog(a.out, c.step);
  a.emit({ type: 'resume', message: `resumed from ${ck} at step ${c.step}` });
  return c.step;
}
