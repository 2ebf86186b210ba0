// The main thread's side of data-parallel training: N replica workers, each training a backbone copy on its shard
// of the batch, and the objective (Partial FC in host memory, softmax FC, or a two-view loss) computed here on the
// embeddings of the whole batch. Because the objective sees the whole batch and BatchNorm is synchronized, a step
// equals the single-thread step up to float rounding.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Backbone } from '@facet/backbones';
import { tf, type BackendChoice } from '@facet/engine';
import type { FromReplica, ReplicaInit, ReplicaOptimizerSpec, ReplicaState, StepDone, StepPhases, ToReplica } from './protocol.js';
import { abortGroup, publishGradient } from './replica-sync.js';
import { allocateRegions, sharedBytes, viewRegions, type SharedViews } from './shared-buffers.js';
import { splitBatch, type Shard } from './shards.js';
import { tensorFromShared } from './tensor-memory.js';
import { replicaWorkerUrl } from './worker-url.js';

export interface ReplicaGroupOptions {
  workers: number;
  batchSize: number;
  twoViews: boolean;
  /** BN in inference mode while training: no batch statistics to synchronize. Default false. */
  frozenBatchNorm?: boolean;
  backend: BackendChoice;
  optimizer: ReplicaOptimizerSpec;
  /** Global-norm clip of the backbone gradient (0 disables), applied to the sum over replicas. */
  clipGradNorm: number;
}

/** What the objective computes on the main thread from the whole batch's embeddings (inside a gradient tape). */
export type ObjectiveLoss = (embeddings: tf.Tensor2D, embeddings2: tf.Tensor2D | undefined) => tf.Scalar;

export interface ReplicaStepResult {
  loss: number;
  /** Global norm of the summed backbone gradient, before clipping. */
  gradNorm: number;
  /** Whether the replicas applied the update (loss and gradient norm finite). */
  finite: boolean;
  /** Gradients of the head variables passed to step(), by name (the caller applies and disposes them). */
  headGrads: Record<string, tf.Tensor>;
  /** Each replica's tf.memory().numTensors after the step. */
  replicaTensors: number[];
  /** Where replica 0's step went (ms). */
  phases: StepPhases;
}

interface Waiter {
  type: FromReplica['type'];
  messages: Array<FromReplica | undefined>;
  left: number;
  resolve: (m: FromReplica[]) => void;
  reject: (e: Error) => void;
}

export class ReplicaGroup {
  readonly shards: Shard[];
  /** Bytes of shared memory (outside the wasm heaps) the group holds. */
  readonly sharedBytes: number;
  private readonly views: SharedViews;
  private readonly workers: Worker[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;
  private seq = 0;
  private closed = false;

  private constructor(
    private readonly backbone: Backbone,
    private readonly opts: ReplicaGroupOptions,
  ) {
    if (!Number.isInteger(opts.workers) || opts.workers < 2) throw new Error(`workers=${opts.workers}: a replica group needs at least 2 workers`);
    if (opts.batchSize < 2 * opts.workers) {
      throw new Error(`batchSize ${opts.batchSize} with workers=${opts.workers}: every replica needs at least 2 images per step (BatchNorm); use --batch-size ${2 * opts.workers} or more, or fewer --workers`);
    }
    this.shards = splitBatch(opts.batchSize, opts.workers);
    const sizes = {
      workers: opts.workers,
      batchSize: opts.batchSize,
      inputSize: backbone.inputSize,
      embeddingSize: backbone.embeddingSize,
      twoViews: opts.twoViews,
      parameters: backbone.trainableVariables().reduce((s, v) => s + v.size, 0),
      // SyncBN forward: [Σx, M2, (Σx)²/n] per channel + the count (see batchStatsAllReduce in @facet/backbones)
      statLength: 3 * Math.max(1, ...backbone.batchNorms().map((l) => l.channels)) + 1,
    };
    this.sharedBytes = sharedBytes(sizes);
    const regions = allocateRegions(sizes);
    this.views = viewRegions(regions);
    this.init = (rank) => ({
      rank,
      workers: opts.workers,
      shards: this.shards,
      backend: opts.backend,
      network: backbone.name,
      backbone: { ...backbone.options },
      twoViews: opts.twoViews,
      frozenBatchNorm: opts.frozenBatchNorm ?? false,
      optimizer: opts.optimizer,
      clipGradNorm: opts.clipGradNorm,
      layout: this.layout(),
      statLength: sizes.statLength,
      regions,
    });
  }

  private readonly init: (rank: number) => ReplicaInit;

  /** Trainable parameter names (gradient-buffer order) and sizes. */
  private layout(): Array<{ name: string; size: number }> {
    const paramOf = new Map<string, string>();
    for (const [param, v] of Object.entries(this.backbone.getWeights())) paramOf.set((v as tf.Variable).name, param);
    return this.backbone.trainableVariables().map((v) => ({ name: paramOf.get(v.name)!, size: v.size }));
  }

  /**
   * Start `opts.workers` replicas of `backbone` (same architecture and options; its current weights are copied to
   * every replica). The backbone stays the main thread's own: call syncBackbone() to refresh it from the replicas.
   */
  static async start(backbone: Backbone, opts: ReplicaGroupOptions): Promise<ReplicaGroup> {
    const group = new ReplicaGroup(backbone, opts);
    try {
      const url = await replicaWorkerUrl();
      for (let r = 0; r < opts.workers; r++) group.spawn(url, r);
      await group.collect('ready');
      await group.setState({ weights: weightsOf(backbone) });
    } catch (e) {
      await group.close();
      throw e;
    }
    return group;
  }

  private spawn(url: URL, rank: number): void {
    // each replica's native engine (if chosen) gets its share of the cores; the user's own setting wins
    const threads = process.env.FACET_NATIVE_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / this.opts.workers)));
    const w = new Worker(url, { workerData: this.init(rank), execArgv: workerExecArgv(), env: { ...process.env, FACET_NATIVE_THREADS: threads } });
    w.on('message', (m: FromReplica) => this.receive(rank, m));
    w.on('error', (e) => this.fail(new Error(`training replica ${rank} crashed: ${e.message}`)));
    w.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`training replica ${rank} exited (code ${code}); a wasm heap overrun shows this way: lower --batch-size`));
    });
    this.workers.push(w);
  }

  private receive(rank: number, m: FromReplica): void {
    if (m.type === 'error') {
      this.fail(new Error(`training replica ${rank}: ${m.message}`));
      return;
    }
    const w = this.waiter;
    if (!w || w.type !== m.type || w.messages[rank]) {
      this.fail(new Error(`internal: replica ${rank} sent '${m.type}' while the group waited for '${w?.type ?? 'nothing'}'`));
      return;
    }
    w.messages[rank] = m;
    if (--w.left === 0) {
      this.waiter = undefined;
      w.resolve(w.messages as FromReplica[]);
    }
  }

  private fail(e: Error): void {
    if (this.failure || this.closed) return;
    this.failure = e;
    abortGroup(this.views.control);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }

  /** Resolve once every replica has sent a message of `type` (the messages by rank). */
  private collect<T extends FromReplica['type']>(type: T, post?: ToReplica): Promise<Array<Extract<FromReplica, { type: T }>>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('the replica group was closed'));
    if (this.waiter) return Promise.reject(new Error(`internal: replica group already waits for '${this.waiter.type}'`));
    const p = new Promise<FromReplica[]>((resolve, reject) => {
      this.waiter = { type, messages: new Array(this.workers.length).fill(undefined), left: this.workers.length, resolve, reject };
    });
    if (post) for (const w of this.workers) w.postMessage(post);
    return p as Promise<Array<Extract<FromReplica, { type: T }>>>;
  }

  /**
   * One training step of the whole batch. `objectiveLoss` runs here on the embeddings of every replica (in batch
   * order) inside a gradient tape over them and `headVariables`; the replicas receive dL/d(embeddings), backprop,
   * sum, clip and apply their optimizer with `lr` — unless the loss or the gradient norm is not finite, in which case
   * they keep their weights and restore their BN statistics.
   */
  async step(images: Float32Array, views2: Float32Array | undefined, lr: number, objectiveLoss: ObjectiveLoss, headVariables: tf.Variable[] = []): Promise<ReplicaStepResult> {
    const B = this.opts.batchSize;
    const D = this.backbone.embeddingSize;
    const v = this.views;
    if (images.length !== v.images.length) throw new Error(`internal: batch of ${images.length} floats, the group expects ${v.images.length}`);
    if (this.opts.twoViews !== Boolean(views2)) throw new Error(`internal: the group was started with twoViews=${this.opts.twoViews}`);
    v.images.set(images);
    if (views2) v.images2!.set(views2);
    const seq = ++this.seq;
    await this.collect('embedded', { type: 'step', seq, lr });

    let loss = NaN;
    const headGrads: Record<string, tf.Tensor> = {};
    try {
      tf.tidy(() => {
        const emb = tf.variable(tensorFromShared<tf.Rank.R2>(v.embeddings, [B, D]), true);
        const emb2 = v.embeddings2 ? tf.variable(tensorFromShared<tf.Rank.R2>(v.embeddings2, [B, D]), true) : undefined;
        try {
          const { value, grads } = tf.variableGrads(() => objectiveLoss(emb, emb2), [emb, ...(emb2 ? [emb2] : []), ...headVariables]);
          loss = value.dataSync()[0]!;
          const write = (t: tf.Variable, dst: Float32Array) => {
            const g = grads[t.name];
            if (g) dst.set(g.dataSync());
            else dst.fill(0);
          };
          write(emb, v.embeddingGrads);
          if (emb2) write(emb2, v.embeddingGrads2!);
          for (const h of headVariables) if (grads[h.name]) headGrads[h.name] = tf.keep(grads[h.name]!);
        } finally {
          emb.dispose();
          emb2?.dispose();
        }
      });
    } catch (e) {
      tf.dispose(Object.values(headGrads));
      this.fail(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
    v.scalars[0] = loss;
    const done = this.collect('done');
    publishGradient(v.control, seq);
    let results: StepDone[];
    try {
      results = await done;
    } catch (e) {
      tf.dispose(Object.values(headGrads));
      throw e;
    }
    const first = results[0]!;
    if (results.some((r) => r.finite !== first.finite || !Object.is(r.gradNorm, first.gradNorm))) {
      tf.dispose(Object.values(headGrads));
      const e = new Error(`internal: the replicas diverged (gradient norms ${results.map((r) => r.gradNorm).join(', ')})`);
      this.fail(e);
      throw e;
    }
    return { loss, gradNorm: first.gradNorm, finite: first.finite, headGrads, replicaTensors: results.map((r) => r.numTensors), phases: first.phases };
  }

  /** Backbone weights (with BN running statistics) and optimizer state of replica 0, by parameter name. */
  async getState(): Promise<ReplicaState> {
    const p = this.collectFrom0('state');
    this.workers[0]!.postMessage({ type: 'getState' } satisfies ToReplica);
    return (await p).state;
  }

  /** Set weights and/or optimizer state on every replica. */
  async setState(state: Partial<ReplicaState>): Promise<void> {
    await this.collect('stateSet', { type: 'setState', state });
  }

  /** Copy replica 0's weights and BN statistics into the main thread's backbone (for validation, checkpoints, export). */
  async syncBackbone(): Promise<ReplicaState> {
    const state = await this.getState();
    this.backbone.setWeights(state.weights);
    return state;
  }

  private collectFrom0<T extends FromReplica['type']>(type: T): Promise<Extract<FromReplica, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new Error(`internal: replica group already waits for '${this.waiter.type}'`));
    return new Promise((resolve, reject) => {
      // the other ranks are counted as arrived: only rank 0 answers
      const messages: Array<FromReplica | undefined> = this.workers.map(() => ({ type }) as FromReplica);
      messages[0] = undefined;
      this.waiter = { type, messages, left: 1, resolve: (m) => resolve(m[0] as Extract<FromReplica, { type: T }>), reject };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    abortGroup(this.views.control);
    this.waiter?.reject(new Error('the replica group was closed'));
    this.waiter = undefined;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * The parent's Node flags (workers inherit them) minus those that only apply to the main script: a trainer started
 * as `node --input-type=module -e …` (the bench does) would otherwise fail every replica at start.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (['-e', '--eval', '-p', '--print', '--input-type'].includes(a)) i++;
    else if (!/^--(input-type|eval|print)=/.test(a)) out.push(a);
  }
  return out;
}

function weightsOf(backbone: Backbone): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(backbone.getWeights())) out[k] = t.dataSync() as Float32Array;
  return out;
}
