// Partial FC (An et al., "Partial FC: Training 10 Million Identities on a Single Machine", ICCVW 2021;
// arcface_torch partial_fc_v2.py) with the class centres in host memory:
//   1. sample all positives of the batch + uniform random negatives (int(r·C) classes), sorted, labels remapped;
//   2. split the sampled classes by the model-parallel shard that owns them (C//N + (rank < C%N) classes each);
//   3. each shard uploads only its sampled rows, computes cos = x̂·ŵ, the margin logits and its partial softmax
//      statistics; the softmax is combined across shards (row max, then Σexp rescaled to it), as arcface_torch's
//      DistCrossEntropy does with all_reduce(MAX) and all_reduce(SUM);
//   4. backward (inside tf.customGrad): dx̂ summed over shards; each shard's centre gradient is read back to the host;
//   5. step(): SGD-momentum or AdamW on the sampled rows only (v1 semantics, see center-optimizer.ts).
// Sampling happens once over all C classes and the sampled set is then partitioned, so the result does not depend
// on the number of shards (insightface samples int(r·C/N) per rank, which makes the sample depend on N).
// Shards run one after another in this process and engine: they bound nothing by themselves, but they are the unit
// a multi-worker executor would distribute (only [B]-sized statistics and dx̂ [B, D] cross shard boundaries).
import { tf } from '@facet/engine';
import { MARGIN_PRESETS, NORMALIZE_EPS, validateMarginOptions, type MarginOptions, type ResolvedMarginOptions } from '@facet/heads';
import { totalmem } from 'node:os';
import { ClassCenterStore, type CenterStorage } from './class-center-store.js';
import { DiskClassCenterStore } from './disk-center-store.js';
import {
  applyCenterUpdate,
  optimizerSlots,
  resolveCenterOptimizer,
  type CenterOptimizerOptions,
  type ResolvedCenterOptimizer,
} from './center-optimizer.js';
import { DEFAULT_BLOCK_BYTES, WASM_HEAP_BYTES, estimateStepEngineBytes, formatGiB, maxSampledClasses } from './memory-estimate.js';
import { Xoshiro128 } from './rng.js';
import { sampleClassesWith, validateSampling } from './sample-classes.js';
import { shardRange } from './shard-range.js';
import { HeadBlock } from './head-block.js';

export interface PartialFCOptions {
  numClasses: number;
  embeddingSize: number;
  /** (0, 1], default 1 (= full FC). */
  sampleRate?: number;
  /** Default MARGIN_PRESETS.arcface (s = 64). */
  margin?: MarginOptions;
  /** Sub-centres per class (Sub-center ArcFace K), default 1. */
  subCenters?: number;
  /** Default SGD lr 0.1, momentum 0.9, weight decay 5e-4 (insightface). */
  optimizer?: CenterOptimizerOptions;
  /** Model-parallel shards, default 1. */
  numShards?: number;
  /** Host storage of the centres, default 'float32'. Optimizer state is always float32. */
  storage?: CenterStorage;
  /** Seeds the centre initialisation and the sampling stream. Default 2048 (arcface_torch's seed). */
  seed?: number;
  /**
   * Engine bytes a step may use on top of what is already allocated (checked before each wasm step; default the
   * 4 GiB wasm heap). Callers training a backbone in the same engine pass what is left after it.
   */
  engineBudgetBytes?: number;
  /**
   * Engine work is split into blocks of sampled classes whose centre rows take at most this many bytes (default
   * 32 MiB = 16k classes at D = 512): no single engine allocation grows with C, which keeps the never-shrinking wasm
   * heap from fragmenting. The result does not depend on it (beyond float32 summation order).
   */
  blockBytes?: number;
  /**
   * Keep the centres and optimizer state in files in `directory` instead of host arrays (DiskClassCenterStore):
   * rows are read and written by sampled index and the OS page cache does the caching, so C is bounded by disk,
   * not RAM. `mode: 'open'` continues a store left in the directory (its options must match). Default: in memory.
   */
  disk?: { directory: string; mode?: 'create' | 'open' };
  /**
   * Host bytes the head may hold (centres + optimizer state + one step's row buffers, see estimateMemory). Default
   * 85 % of the machine's RAM. Exceeding it throws before anything is allocated: an in-memory store that does not
   * fit would swap or be killed by the OOM killer; use `disk` or `storage: 'float16'` instead.
   */
  hostBudgetBytes?: number;
}

export interface PartialFCState {
  numClasses: number;
  embeddingSize: number;
  subCenters: number;
  storage: CenterStorage;
  optimizer: 'sgd' | 'adamw';
  /** Optimizer steps taken (AdamW bias correction). */
  step: number;
  /** Sampling generator state (4 uint32). */
  rngState: number[];
  /** All centres [C, K, D] as float32 (decoded when stored as float16). */
  weights: Float32Array;
  /** SGD momentum buffer [C, K, D] (when momentum > 0). */
  momentum?: Float32Array;
  /** AdamW first / second moments [C, K, D]. */
  expAvg?: Float32Array;
  expAvgSq?: Float32Array;
}

interface StepState {
  indices: Int32Array;
  remapped: Int32Array;
  /** Sampled rows as uploaded (float32), [n·K·D]. */
  weights: Float32Array;
  /** Engine blocks in sampled order; [lo, hi) are positions in `indices`. */
  blocks: Array<{ head: HeadBlock; lo: number; hi: number }>;
  xHat: tf.Tensor2D;
  xNorm: tf.Tensor2D;
  lse: Float64Array;
  batch: number;
  gradientDone: boolean;
}

function positiveInt(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`PartialFC: ${key}=${String(v)} must be a positive integer.`);
  return v;
}

export class PartialFC {
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly sampleRate: number;
  readonly subCenters: number;
  readonly numShards: number;
  readonly margin: ResolvedMarginOptions;
  readonly optimizer: ResolvedCenterOptimizer;
  /** All centres (and optimizer state): in host memory, or in files with `disk`. */
  readonly store: ClassCenterStore | DiskClassCenterStore;
  private readonly rng: Xoshiro128;
  private stepCount = 0;
  private current: StepState | undefined;
  /** Gradient of the sampled rows of the last forward, filled by the backward pass. */
  private grad: Float32Array | undefined;
  private gradFor: Int32Array | undefined;
  private accuracy = NaN;
  private lastSampled: Int32Array | undefined;
  private disposed = false;
  private readonly engineBudgetBytes: number;
  /** An explicit budget applies on every backend; the default one only on wasm (its heap cannot grow past 4 GiB). */
  private readonly budgetAlways: boolean;
  /** Sampled classes per engine block. */
  private readonly blockClasses: number;

  constructor(opts: PartialFCOptions) {
    if (opts == null || typeof opts !== 'object') throw new Error('PartialFC: options { numClasses, embeddingSize, ... } are required.');
    this.numClasses = positiveInt('numClasses', opts.numClasses);
    this.embeddingSize = positiveInt('embeddingSize', opts.embeddingSize);
    this.subCenters = positiveInt('subCenters', opts.subCenters ?? 1);
    this.numShards = positiveInt('numShards', opts.numShards ?? 1);
    if (this.numShards > this.numClasses) {
      throw new Error(`PartialFC: numShards=${this.numShards} exceeds numClasses=${this.numClasses}; every shard must own at least one class.`);
    }
    const rate = opts.sampleRate ?? 1;
    validateSampling(new Int32Array(0), this.numClasses, rate, 'PartialFC');
    this.sampleRate = rate;
    this.margin = validateMarginOptions(opts.margin ?? MARGIN_PRESETS.arcface);
    this.optimizer = resolveCenterOptimizer(opts.optimizer);
    const seed = opts.seed ?? 2048;
    if (!Number.isFinite(seed)) throw new Error(`PartialFC: seed=${seed} must be a finite number.`);
    const storeOptions = {
      numClasses: this.numClasses,
      embeddingSize: this.embeddingSize,
      subCenters: this.subCenters,
      storage: opts.storage ?? 'float32',
      slots: optimizerSlots(this.optimizer),
      seed,
    } as const;
    const blockBytes = opts.blockBytes ?? DEFAULT_BLOCK_BYTES;
    if (typeof blockBytes !== 'number' || !(blockBytes > 0)) throw new Error(`PartialFC: blockBytes=${String(blockBytes)} must be a positive number of bytes.`);
    this.blockClasses = Math.max(1, Math.floor(blockBytes / (this.subCenters * this.embeddingSize * 4)));
    if (opts.disk !== undefined && (opts.disk === null || typeof opts.disk !== 'object' || typeof opts.disk.directory !== 'string')) {
      throw new Error("PartialFC: disk must be { directory: string, mode?: 'create' | 'open' }.");
    }
    const hostBudget = opts.hostBudgetBytes ?? Math.floor(0.85 * totalmem());
    if (typeof hostBudget !== 'number' || !(hostBudget > 0)) throw new Error(`PartialFC: hostBudgetBytes=${String(hostBudget)} must be a positive number of bytes.`);
    const perStep = this.stepHostBytes(maxSampledClasses(this.numClasses, this.sampleRate, 1024));
    const resident = opts.disk ? Math.ceil(this.numClasses / 8) : this.numClasses * this.subCenters * this.embeddingSize * ((storeOptions.storage === 'float32' ? 4 : 2) + 4 * storeOptions.slots.length);
    // float16 centres halve only the centres, not the float32 optimizer state
    const halfFits = this.numClasses * this.subCenters * this.embeddingSize * (2 + 4 * storeOptions.slots.length) + perStep <= hostBudget;
    if (resident + perStep > hostBudget) {
      const gib = (b: number) => formatGiB(b);
      throw new Error(
        `PartialFC: ${this.numClasses.toLocaleString('en')} classes × ${this.subCenters} × ${this.embeddingSize} need about ${gib(resident)} of host memory for the centres ` +
          `(${storeOptions.storage}) and optimizer state (${storeOptions.slots.join(', ') || 'none'})${opts.disk ? '' : ' in memory'} plus ${gib(perStep)} per step (sample rate ${this.sampleRate}), ` +
          `over the budget of ${gib(hostBudget)} (hostBudgetBytes; default 85 % of RAM). ` +
          (opts.disk
            ? 'Lower sampleRate.'
            : `Keep the centres on disk with disk: { directory }${halfFits ? ", or use storage: 'float16'" : ''}, or lower numClasses.`),
      );
    }
    this.store = opts.disk ? new DiskClassCenterStore({ ...storeOptions, directory: opts.disk.directory, mode: opts.disk.mode }) : new ClassCenterStore(storeOptions);
    this.rng = new Xoshiro128((seed ^ 0x5bd1e995) >>> 0);
    const budget = opts.engineBudgetBytes ?? WASM_HEAP_BYTES;
    if (typeof budget !== 'number' || !(budget > 0)) throw new Error(`PartialFC: engineBudgetBytes=${String(budget)} must be a positive number of bytes.`);
    this.engineBudgetBytes = budget;
    this.budgetAlways = opts.engineBudgetBytes !== undefined;
  }

  /**
   * Loss for this batch; differentiable w.r.t. `embeddings` (tf.customGrad). While the gradient is computed (inside
   * tf.grads / tf.variableGrads / optimizer.minimize by the caller), the gradient w.r.t. the sampled centres is
   * captured internally for step().
   */
  forward(embeddings: tf.Tensor2D, labels: Int32Array): tf.Scalar {
    this.checkAlive();
    if (!(embeddings instanceof tf.Tensor) || embeddings.rank !== 2 || embeddings.shape[1] !== this.embeddingSize) {
      throw new Error(
        `PartialFC.forward: embeddings must be [batch, ${this.embeddingSize}]; got ${embeddings instanceof tf.Tensor ? `[${embeddings.shape}]` : String(embeddings)}.`,
      );
    }
    const B = embeddings.shape[0];
    if (!(labels instanceof Int32Array) || labels.length !== B) {
      throw new Error(`PartialFC.forward: labels must be an Int32Array with one class index per embedding (${B}).`);
    }
    if (B < 1) throw new Error('PartialFC.forward: empty batch.');
    validateSampling(labels, this.numClasses, this.sampleRate, 'PartialFC.forward');
    this.releaseStep();
    this.grad = undefined;
    this.gradFor = undefined;

    const sample = sampleClassesWith(labels, this.numClasses, this.sampleRate, this.rng);
    this.lastSampled = sample.indices;
    this.checkEngineBudget(B, sample.indices.length);
    const L = this.store.rowLength;
    const weights = this.store.gatherRows(sample.indices);
    const { margin } = this;
    const run = tf.customGrad(((x: tf.Tensor2D) => {
      const xNorm = tf.keep(tf.tidy(() => tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), NORMALIZE_EPS) as tf.Tensor2D));
      const xHat = tf.keep(tf.div(x, xNorm) as tf.Tensor2D);
      const blocks: StepState['blocks'] = [];
      const rowMax = new Float64Array(B).fill(-Infinity);
      const perBlock = [];
      let shardLo = 0;
      for (let rank = 0; rank < this.numShards; rank++) {
        const { start, count } = shardRange(this.numClasses, this.numShards, rank);
        let shardHi = shardLo;
        while (shardHi < sample.indices.length && sample.indices[shardHi]! < start + count) shardHi++;
        for (let lo = shardLo; lo < shardHi; lo += this.blockClasses) {
          const hi = Math.min(shardHi, lo + this.blockClasses);
          const local = new Int32Array(B);
          for (let b = 0; b < B; b++) {
            const p = sample.remapped[b]!;
            local[b] = p >= lo && p < hi ? p - lo : -1;
          }
          const head = new HeadBlock(hi - lo, this.subCenters, this.embeddingSize, margin);
          const stats = head.forward(xHat, weights.subarray(lo * L, hi * L), local);
          for (let b = 0; b < B; b++) rowMax[b] = Math.max(rowMax[b]!, stats.rowMax[b]!);
          blocks.push({ head, lo, hi });
          perBlock.push(stats);
        }
        shardLo = shardHi;
      }
      // combine the blocks' (and so the shards') softmax: global max, then Σ_r Σexp_r·exp(m_r − M)   (float64, host)
      const lse = new Float64Array(B);
      let loss = 0;
      let hits = 0;
      for (let b = 0; b < B; b++) {
        let sum = 0;
        let target = NaN;
        let bestCos = -Infinity;
        let bestPos = -1;
        perBlock.forEach((st, r) => {
          if (st.rowMax[b] !== -Infinity) sum += st.sumExp[b]! * Math.exp(st.rowMax[b]! - rowMax[b]!);
          if (!Number.isNaN(st.targetLogit[b]!)) target = st.targetLogit[b]!;
          if (st.bestCos[b]! > bestCos) {
            bestCos = st.bestCos[b]!;
            bestPos = blocks[r]!.lo + st.bestCol[b]!;
          }
        });
        lse[b] = rowMax[b]! + Math.log(sum);
        loss += lse[b]! - target;
        if (bestPos === sample.remapped[b]) hits++;
      }
      this.accuracy = hits / B;
      this.current = { indices: sample.indices, remapped: sample.remapped, weights, blocks, xHat, xNorm, lse, batch: B, gradientDone: false };
      const step = this.current;
      return {
        value: tf.scalar(loss / B),
        gradFunc: (dy: tf.Tensor) => this.backward(step, dy),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return run(embeddings) as tf.Scalar;
  }

  private backward(step: StepState, dy: tf.Tensor): tf.Tensor {
    if (step !== this.current || step.gradientDone) {
      throw new Error('PartialFC: the gradient of this forward was already computed (or a newer forward replaced it); call forward again.');
    }
    const B = step.batch;
    const gScale = dy.dataSync()[0]! / B;
    const grad = new Float32Array(step.weights.length);
    const L = this.store.rowLength;
    let dxHat: tf.Tensor2D = tf.zeros([B, this.embeddingSize]);
    for (const { head, lo, hi } of step.blocks) {
      const part = head.backward(step.xHat, step.lse, gScale, step.weights.subarray(lo * L, hi * L), grad.subarray(lo * L, hi * L));
      const sum = tf.add(dxHat, part) as tf.Tensor2D;
      tf.dispose([dxHat, part]);
      dxHat = sum;
      head.release();
    }
    // x̂ = x/‖x‖  ⇒  dx = (dx̂ − (dx̂·x̂)·x̂)/‖x‖
    const { xHat, xNorm } = step;
    const dx = tf.tidy(() => tf.div(tf.sub(dxHat, tf.mul(tf.sum(tf.mul(dxHat, xHat), 1, true), xHat)), xNorm));
    tf.dispose([dxHat, xHat, xNorm]);
    step.gradientDone = true;
    this.grad = grad;
    this.gradFor = step.indices;
    return dx;
  }

  /** Apply the optimizer update to the rows sampled in the last forward (host side), with this step's learning rate. */
  step(lr?: number): void {
    this.checkAlive();
    if (!this.grad || !this.gradFor) {
      throw new Error('PartialFC.step: no centre gradient; compute the gradient of forward()’s loss (tf.grads / optimizer.minimize) before step().');
    }
    const rate = lr ?? this.optimizer.lr;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) throw new Error(`PartialFC.step: lr=${String(lr)} must be a finite number ≥ 0.`);
    this.stepCount++;
    // the forward's copy of the sampled rows is still what the store holds: the disk store updates it in place
    const gathered = this.current?.indices === this.gradFor ? this.current.weights : undefined;
    applyCenterUpdate(this.store, this.gradFor, this.grad, this.optimizer, rate, this.stepCount, gathered);
    this.grad = undefined;
    this.gradFor = undefined;
    this.releaseStep();
  }

  /** Accuracy of the last forward's batch over the sampled classes (argmax of cos vs label), 0..1; NaN before any. */
  lastAccuracy(): number {
    return this.accuracy;
  }

  /** Classes sampled by the last forward (sorted), or undefined before the first. */
  lastSampledClasses(): Int32Array | undefined {
    return this.lastSampled;
  }

  /** Gradient of the last forward's sampled rows [n·K·D] (after the backward pass, before step()). */
  lastCenterGradient(): Float32Array | undefined {
    return this.grad;
  }

  getState(): PartialFCState {
    this.checkAlive();
    const s: PartialFCState = {
      numClasses: this.numClasses,
      embeddingSize: this.embeddingSize,
      subCenters: this.subCenters,
      storage: this.store.storage,
      optimizer: this.optimizer.type,
      step: this.stepCount,
      rngState: this.rng.getState(),
      weights: this.store.exportWeights(),
    };
    for (const name of optimizerSlots(this.optimizer)) (s as unknown as Record<string, Float32Array>)[name] = this.store.exportSlot(name);
    return s;
  }

  setState(s: PartialFCState): void {
    this.checkAlive();
    if (s == null || typeof s !== 'object') throw new Error('PartialFC.setState: state must be an object from getState().');
    for (const key of ['numClasses', 'embeddingSize', 'subCenters'] as const) {
      if (s[key] !== this[key]) throw new Error(`PartialFC.setState: checkpoint ${key}=${String(s[key])} but this head has ${this[key]}.`);
    }
    if (s.optimizer !== undefined && s.optimizer !== this.optimizer.type) {
      const slots = ['momentum', 'expAvg', 'expAvgSq'].filter((k) => (s as unknown as Record<string, unknown>)[k] !== undefined);
      if (slots.length) {
        throw new Error(
          `PartialFC.setState: checkpoint optimizer is ${s.optimizer} but this head uses ${this.optimizer.type}; remove ${slots.join(', ')} from the state to start the new optimizer from zero.`,
        );
      }
    }
    if (!Number.isInteger(s.step) || s.step < 0) throw new Error(`PartialFC.setState: step=${String(s.step)} must be an integer ≥ 0.`);
    this.store.importWeights(s.weights);
    for (const name of optimizerSlots(this.optimizer)) this.store.importSlot(name, (s as unknown as Record<string, Float32Array | undefined>)[name]);
    if (s.rngState !== undefined) this.rng.setState(s.rngState);
    this.stepCount = s.step;
    this.releaseStep();
    this.grad = undefined;
    this.gradFor = undefined;
  }

  /**
   * Estimated bytes: engine (per step at batch size B, upper bound over the sampled classes) and host (centres,
   * optimizer state and the per-step row buffers), so callers can refuse runs that cannot fit the 4 GiB wasm heap.
   */
  estimateMemory(batchSize: number): { engineBytes: number; hostBytes: number } {
    positiveInt('batchSize', batchSize);
    const n = maxSampledClasses(this.numClasses, this.sampleRate, batchSize);
    return {
      engineBytes: estimateStepEngineBytes(batchSize, n, this.subCenters, this.embeddingSize, this.blockClasses),
      hostBytes: this.store.hostBytes + this.stepHostBytes(n),
    };
  }

  /** Host bytes of one step over n sampled classes: gathered rows + their gradient (+ the engine's read-back copy), sampling buffers. */
  private stepHostBytes(n: number): number {
    return 3 * n * this.subCenters * this.embeddingSize * 4 + this.numClasses + 8 * n;
  }

  /** Disk-backed store: persist it (bitmap + fsync), so its directory is a consistent checkpoint. No-op in memory. */
  flush(): void {
    if (this.store instanceof DiskClassCenterStore) this.store.flush();
  }

  dispose(): void {
    if (this.disposed) return;
    this.releaseStep();
    this.grad = undefined;
    this.gradFor = undefined;
    if (this.store instanceof DiskClassCenterStore) this.store.close();
    this.disposed = true;
  }

  private releaseStep(): void {
    const cur = this.current;
    if (!cur) return;
    for (const { head } of cur.blocks) head.release();
    if (!cur.gradientDone) tf.dispose([cur.xHat, cur.xNorm]);
    this.current = undefined;
  }

  private checkEngineBudget(batch: number, sampled: number): void {
    if (!this.budgetAlways && tf.getBackend() !== 'wasm') return;
    const need = estimateStepEngineBytes(batch, sampled, this.subCenters, this.embeddingSize, this.blockClasses);
    const inUse = tf.memory().numBytes;
    if (need + inUse > this.engineBudgetBytes) {
      throw new Error(
        `PartialFC: this step needs about ${formatGiB(need)} of engine memory (${sampled} sampled classes × ${this.subCenters} × ${this.embeddingSize}, batch ${batch}) ` +
          `with ${formatGiB(inUse)} already in use, over the budget of ${formatGiB(this.engineBudgetBytes)} (wasm heap: 4 GiB); ` +
          `lower sampleRate (now ${this.sampleRate}), the batch size.`,
      );
    }
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('PartialFC: this head was disposed.');
  }
}
