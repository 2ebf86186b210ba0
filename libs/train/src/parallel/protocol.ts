// Messages between the main thread and the replica workers. Control travels by postMessage; bulk data (batch,
// embeddings, gradients) through the shared regions. State (weights, optimizer slots) is keyed by the backbone's
// parameter names, not by tf.Variable names (those carry a per-process instance number).
import type { BackboneOptions } from '@facet/backbones';
import type { BackendChoice } from '@facet/engine';
import type { SharedRegions } from './shared-buffers.js';
import type { Shard } from './shards.js';

export interface ReplicaOptimizerSpec {
  name: 'sgd' | 'adamw';
  momentum: number;
  weightDecay: number;
}

/** workerData of a replica. */
export interface ReplicaInit {
  rank: number;
  workers: number;
  shards: Shard[];
  backend: BackendChoice;
  network: string;
  backbone: BackboneOptions & { embeddingSize: number; inputSize: number };
  twoViews: boolean;
  /** BN in inference mode while training (TrainConfig.freezeBn). */
  frozenBatchNorm: boolean;
  optimizer: ReplicaOptimizerSpec;
  clipGradNorm: number;
  /** Trainable parameter names in gradient-buffer order, with their sizes (checked against the replica's own). */
  layout: Array<{ name: string; size: number }>;
  statLength: number;
  regions: SharedRegions;
}

export interface ReplicaState {
  /** Every parameter and BN running statistic by parameter name. */
  weights: Record<string, Float32Array>;
  optimizer: { kind: 'sgd' | 'adamw'; step: number; slots: Record<string, Float32Array> };
}

export type ToReplica =
  | { type: 'step'; seq: number; lr: number }
  | { type: 'getState' }
  | { type: 'setState'; state: Partial<ReplicaState> }
  | { type: 'close' };

export interface StepDone {
  type: 'done';
  seq: number;
  gradNorm: number;
  finite: boolean;
  numTensors: number;
  phases: StepPhases;
}

/**
 * Where a replica's step went (ms): forward (with the SyncBN all-reduces), waiting for the main thread's objective,
 * backward, gradient exchange (copy out, reduce-scatter, the barriers, i.e. also waiting for the slowest replica),
 * and update (upload of the sum, clip, optimizer). barrierWait: the part of all that was spent blocked at barriers
 * (SyncBN and gradient exchange) waiting for the other replicas — the lock-step cost, large on a loaded machine.
 */
export interface StepPhases {
  forward: number;
  head: number;
  backward: number;
  exchange: number;
  update: number;
  barrierWait: number;
}

export type FromReplica =
  | { type: 'ready'; numTensors: number }
  | { type: 'embedded'; seq: number }
  | StepDone
  | { type: 'state'; state: ReplicaState }
  | { type: 'stateSet' }
  | { type: 'error'; message: string; stack?: string };
