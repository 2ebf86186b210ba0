// Engine-memory estimate of a training run, measured rather than guessed: one forward+backward at batch 1 and 2
// under tf.profile gives the per-image activation cost; weights, gradients and optimizer slots are counted.
// Needed because the wasm heap is capped at 4 GiB and an overrun silently corrupts memory instead of throwing.
import type { Backbone } from '@facet/backbones';
import { freemem } from 'node:os';
import { tf } from '@facet/engine';
import type { Objective } from './objectives.js';

/** What Facet lets one wasm instance use: 4 GiB minus room for fragmentation and kernel scratch buffers. */
export const WASM_HEAP_BUDGET = 3.5 * 2 ** 30;

/**
 * What one engine may use for a training run, per backend: the wasm heap's budget (an overrun corrupts memory
 * silently), or for the native and cpu engines — whose tensors live in ordinary host memory — 90 % of the RAM that is
 * free now. undefined where Facet cannot tell (tfjs-node's own allocator, GPU memory).
 */
export function engineMemoryBudget(backend: string, freeBytes: number = freemem()): { bytes: number; what: string } | undefined {
  if (backend === 'wasm') return { bytes: WASM_HEAP_BUDGET, what: 'the wasm heap allows' };
  if (backend === 'native' || backend === 'cpu') return { bytes: 0.9 * freeBytes, what: `the machine has ${(freeBytes / 2 ** 30).toFixed(2)} GiB of RAM free, of which Facet plans on 90 %:` };
  return undefined;
}

export interface MemoryEstimate {
  engineBytes: number;
  fixedBytes: number;
  perImageBytes: number;
  headBytes: number;
  maxBatch: number;
}

async function stepPeak(backbone: Backbone, batch: number, size: number): Promise<number> {
  const saved = backbone.batchNorms().flatMap((l) => [tf.clone(l.runningMean), tf.clone(l.runningVar)]);
  const vars = backbone.trainableVariables();
  const startBytes = tf.memory().numBytes;
  try {
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.tidy(() => tf.mean(tf.square(backbone.apply(tf.zeros([batch, size, size, 3]), { training: true })))),
        vars,
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    return info.peakBytes - startBytes;
  } finally {
    // the probe must not move the BN running statistics
    backbone.batchNorms().forEach((l, i) => {
      l.runningMean.assign(saved[2 * i]!);
      l.runningVar.assign(saved[2 * i + 1]!);
    });
    tf.dispose(saved);
  }
}

/**
 * Why a data-parallel run cannot fit, or undefined. wasm: every replica has its own heap (ceil(B/W) images each) and
 * the head lives on the main thread's; native/cpu: the replicas' copies of weights and optimizer state, their
 * activations and the main thread's head all come out of the same host RAM.
 */
/** Per replica: its engine's share (backbone, optimizer, activations); main thread: the head and gradient staging. */
export function replicaMemory(memory: MemoryEstimate): { replicaBytes: number; mainBytes: number } {
  return { replicaBytes: memory.engineBytes - memory.headBytes, mainBytes: memory.headBytes + memory.fixedBytes / 4 };
}

export function replicaMemoryRefusal(
  memory: MemoryEstimate,
  run: { workers: number; perWorker: number; twoViews: boolean; backend: string; budget: { bytes: number; what: string } | undefined },
): string | undefined {
  const { workers: W, perWorker, budget } = run;
  if (!budget) return undefined;
  const { replicaBytes, mainBytes } = replicaMemory(memory);
  const perImage = memory.perImageBytes * (run.twoViews ? 2 : 1);
  const baseBytes = replicaBytes - memory.fixedBytes - perImage * perWorker;
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  const breakdown = `weights+optimizer ${gib(memory.fixedBytes)} GiB, ${(memory.perImageBytes / 2 ** 20).toFixed(1)} MiB per image`;
  if (run.backend === 'wasm') {
    if (replicaBytes > budget.bytes) {
      const maxPerWorker = Math.max(0, Math.floor((budget.bytes - memory.fixedBytes - baseBytes) / (perImage || 1)));
      return (
        `this run needs about ${gib(replicaBytes)} GiB of engine memory per worker at ${perWorker} images per worker (${breakdown}); ` +
        `each worker's wasm heap allows ${gib(budget.bytes)} GiB. Lower --batch-size to ${Math.max(2 * W, maxPerWorker * W)} or below, raise --workers, or use a smaller --network/--width`
      );
    }
    if (mainBytes > budget.bytes) {
      return `the head needs about ${gib(memory.headBytes)} GiB of engine memory on the main thread; the wasm heap allows ${gib(budget.bytes)} GiB. Lower --sample-rate or the number of classes`;
    }
    return undefined;
  }
  const totalBytes = W * replicaBytes + mainBytes;
  if (totalBytes <= budget.bytes) return undefined;
  const maxPerWorker = Math.max(0, Math.floor(((budget.bytes - mainBytes) / W - memory.fixedBytes - baseBytes) / (perImage || 1)));
  return (
    `this run needs about ${gib(totalBytes)} GiB of host memory: ${W} workers × ${gib(replicaBytes)} GiB at ${perWorker} images each (${breakdown}) + ${gib(mainBytes)} GiB on the main thread; ` +
    `${budget.what} ${gib(budget.bytes)} GiB. ${maxPerWorker >= 2 ? `Lower --batch-size to ${maxPerWorker * W} or below, ` : ''}use fewer --workers (each holds its own copy of the weights and optimizer state), or a smaller --network/--width`
  );
}

export async function estimateTrainingMemory(
  backbone: Backbone,
  objective: Objective,
  batch: number,
  size: number,
  twoViews: boolean,
  budgetBytes: number = WASM_HEAP_BUDGET,
): Promise<MemoryEstimate> {
  const params = backbone.trainableVariables().reduce((s, v) => s + v.size, 0);
  // weights + gradients + optimizer slot(s) + a clipped copy of the gradients
  const fixedBytes = 4 * params * 4;
  // training-mode BN needs at least 2 images; the difference of two probes is the per-image cost
  const p2 = await stepPeak(backbone, 2, size);
  const p4 = await stepPeak(backbone, 4, size);
  const perImage = Math.max(0, p4 - p2) / 2;
  // kernels allocate scratch (im2col taps, padded gradients) outside the engine's accounting: +30 %
  const perImageBytes = perImage * 1.3;
  const baseBytes = Math.max(0, p2 - 2 * perImage);
  const views = twoViews ? 2 : 1;
  const headBytes = objective.estimateEngineBytes(batch);
  const engineBytes = fixedBytes + baseBytes + perImageBytes * batch * views + headBytes;
  const maxBatch = Math.floor((budgetBytes - fixedBytes - baseBytes - headBytes) / (perImageBytes * views || 1));
  return { engineBytes, fixedBytes, perImageBytes, headBytes, maxBatch };
}
