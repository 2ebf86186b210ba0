// BatchLoader: seeded, deterministic shuffling per epoch and batches prepared ahead of the training step, on the
// main thread (numWorkers 0; sharp still decodes off-thread) or in worker threads that open the dataset themselves.
// Epoch e's order is a Fisher–Yates permutation seeded from (seed, e), as arcface_torch's sampler reseeds its
// randperm with seed + epoch; sample i's augmentation is seeded from (seed, e, i), so batches do not depend on
// numWorkers or prefetch. drop_last is on by default (Partial FC needs a constant batch size).

import { Worker } from 'node:worker_threads';
import { AUGMENT_PRESETS, validateAugmentOptions, type AugmentOptions } from './augment.js';
import { DataError } from './errors.js';
import { prepareSamples, type SampleJob, type SampleResult } from './loader-core.js';
import { makeRng, mixSeed, shuffleInPlace } from './rng.js';
import type { FaceDataset } from './types.js';
import { loaderWorkerUrl } from './worker-url.js';

export interface Batch {
  /** B·S·S·3 normalised NHWC floats, (x − 127.5)/127.5. */
  images: Float32Array;
  labels: Int32Array;
  /** Dataset indices of the images. */
  indices: Int32Array;
  /** A second, independently augmented view of the same images (twoViews). */
  views2?: Float32Array;
  epoch: number;
  /** Position of this batch within its epoch (0-based). */
  batchInEpoch: number;
  /** Unreadable images that were replaced (skipBad), as "bad → replacement: reason". */
  skipped?: string[];
}

/** Enough to resume exactly: the next batch is samples [cursor, cursor+B) of epoch `epoch`'s order. */
export interface LoaderState {
  epoch: number;
  cursor: number;
  seed: number;
}

export interface BatchLoaderOptions {
  batchSize: number;
  /** Default 0. */
  seed?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Drop the last incomplete batch of each epoch (default true, as arcface_torch). */
  dropLast?: boolean;
  /** Default AUGMENT_PRESETS.insightface (horizontal flip); false for none. */
  augment?: AugmentOptions | false;
  /** Also produce a second augmented view per image (contrastive losses and metrics). */
  twoViews?: boolean;
  /** Worker threads preparing batches (0 = main thread). Default 0. */
  numWorkers?: number;
  /** Batches prepared ahead of the one being consumed. Default 2. */
  prefetch?: number;
  /** Train on this subset of dataset indices (e.g. after cleaning). */
  indices?: Int32Array;
  /** Replace unreadable images by another image of the same class (listed in Batch.skipped) instead of failing. */
  skipBad?: boolean;
  /** Receives notices (e.g. replaced images, worker fallback). Default console.warn. */
  onWarning?: (msg: string) => void;
}

interface Pending {
  promise: Promise<Batch>;
  after: LoaderState;
}

interface WorkerSlot {
  worker: Worker;
  busy: Map<number, { resolve: (r: SampleResult) => void; reject: (e: Error) => void }>;
  dead?: Error;
}

export class BatchLoader {
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  readonly numWorkers: number;
  private readonly subset: Int32Array;
  private readonly opts: Required<Pick<BatchLoaderOptions, 'shuffle' | 'dropLast' | 'twoViews' | 'prefetch' | 'skipBad'>> & { augment: AugmentOptions | false };
  private seed: number;
  private state_: LoaderState;
  /** Position after the last batch scheduled (ahead of state_ by the prefetched batches). */
  private planned: LoaderState;
  private queue: Pending[] = [];
  private permCache: { epoch: number; seed: number; perm: Int32Array } | null = null;
  private workers: WorkerSlot[] | null = null;
  private workersStarting: Promise<WorkerSlot[]> | null = null;
  private nextJobId = 0;
  private nextWorker = 0;
  private closed = false;
  private readonly warned = new Set<string>();
  private readonly warn: (m: string) => void;

  constructor(
    readonly dataset: FaceDataset,
    opts: BatchLoaderOptions,
  ) {
    const bs = opts?.batchSize;
    if (!Number.isInteger(bs) || bs < 1) throw new DataError(`BatchLoader: batchSize must be a positive integer, got ${String(bs)}`);
    const nw = opts.numWorkers ?? 0;
    if (!Number.isInteger(nw) || nw < 0 || nw > 64) throw new DataError(`BatchLoader: numWorkers must be an integer in [0, 64], got ${nw}`);
    const prefetch = opts.prefetch ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 64) throw new DataError(`BatchLoader: prefetch must be an integer in [0, 64], got ${prefetch}`);
    const seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new DataError(`BatchLoader: seed must be a non-negative integer, got ${seed}`);
    if (opts.indices) {
      for (const i of opts.indices) {
        if (!(i >= 0 && i < dataset.size)) throw new DataError(`BatchLoader: indices holds ${i}, outside the dataset's [0, ${dataset.size})`);
      }
    }
    this.subset = opts.indices ? Int32Array.from(opts.indices) : Int32Array.from({ length: dataset.size }, (_, i) => i);
    const augment = opts.augment === undefined ? AUGMENT_PRESETS.insightface : opts.augment;
    if (augment) validateAugmentOptions(augment, 'BatchLoader augment');
    this.opts = {
      shuffle: opts.shuffle ?? true,
      dropLast: opts.dropLast ?? true,
      twoViews: opts.twoViews ?? false,
      prefetch,
      skipBad: opts.skipBad ?? false,
      augment,
    };
    this.batchSize = bs;
    const n = this.subset.length;
    this.batchesPerEpoch = this.opts.dropLast ? Math.floor(n / bs) : Math.ceil(n / bs);
    if (this.batchesPerEpoch === 0) {
      throw new DataError(`BatchLoader: ${n} images cannot fill one batch of ${bs} with dropLast; lower batchSize or pass dropLast: false`);
    }
    this.warn = opts.onWarning ?? ((m) => console.warn(m));
    this.seed = seed;
    this.numWorkers = nw > 0 && !dataset.descriptor ? 0 : nw;
    if (nw > 0 && !dataset.descriptor) this.warn(`BatchLoader: ${dataset.name} cannot be re-opened in worker threads (no descriptor()); loading on the main thread`);
    this.state_ = { epoch: 0, cursor: 0, seed };
    this.planned = { ...this.state_ };
  }

  /** Where the next batch returned by next() starts. */
  state(): LoaderState {
    return { ...this.state_ };
  }

  /** Continue from a saved state (discards prefetched batches). */
  restore(s: LoaderState): void {
    if (!s || !Number.isInteger(s.epoch) || s.epoch < 0 || !Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor > this.subset.length || !Number.isSafeInteger(s.seed)) {
      throw new DataError(`BatchLoader.restore: bad state ${JSON.stringify(s)}; expected {epoch ≥ 0, cursor in [0, ${this.subset.length}], seed}`);
    }
    for (const p of this.queue) p.promise.catch(() => undefined);
    this.queue = [];
    this.seed = s.seed;
    this.state_ = { ...s };
    this.planned = { ...s };
  }

  /** The dataset-index order of `epoch`. */
  epochOrder(epoch: number): Int32Array {
    if (this.permCache?.epoch === epoch && this.permCache.seed === this.seed) return this.permCache.perm;
    const perm = Int32Array.from(this.subset);
    if (this.opts.shuffle) shuffleInPlace(perm, makeRng(mixSeed(this.seed, 0x7e9, epoch)));
    this.permCache = { epoch, seed: this.seed, perm };
    return perm;
  }

  /** The next batch (prepared ahead in the background). */
  async next(): Promise<Batch> {
    if (this.closed) throw new DataError('BatchLoader: next() after close()');
    if (this.queue.length === 0) this.queue.push(this.schedule());
    const head = this.queue.shift()!;
    this.fill();
    const batch = await head.promise;
    this.state_ = head.after;
    // warn once per bad file, when its batch is handed out (not when prefetched)
    for (const s of batch.skipped ?? []) {
      const bad = s.slice(0, s.indexOf(' → '));
      if (this.warned.has(bad)) continue;
      this.warned.add(bad);
      this.warn(`BatchLoader: replaced unreadable image ${s}`);
    }
    return batch;
  }

  /** Stop worker threads; pending batches are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue) p.promise.catch(() => undefined);
    this.queue = [];
    const ws = this.workers ?? (this.workersStarting ? await this.workersStarting.catch(() => null) : null);
    this.workers = null;
    if (!ws) return;
    // Idle workers are unref'd (an idle loader must not block exit), and a job finishing during terminate() unrefs
    // its worker again: the pending terminate() would then hold no handle, and a process with nothing else to do
    // would exit mid-await (seen as training ending silently right after its last checkpoint). Hold the event loop
    // open until every worker has exited.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      await Promise.all(ws.map((w) => (w.worker.ref(), w.worker.terminate())));
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Keep `prefetch` batches in flight behind the one being consumed (at least one per idle worker). */
  private fill(): void {
    const ahead = Math.max(this.opts.prefetch, this.numWorkers - 1);
    while (this.queue.length < ahead) this.queue.push(this.schedule());
  }

  /** Plan the batch at `planned` and start preparing it. */
  private schedule(): Pending {
    const n = this.subset.length;
    let { epoch, cursor } = this.planned;
    if (cursor >= n || (this.opts.dropLast && cursor + this.batchSize > n)) {
      epoch += 1;
      cursor = 0;
    }
    const order = this.epochOrder(epoch);
    const end = Math.min(n, cursor + this.batchSize);
    const indices = order.slice(cursor, end);
    const batchInEpoch = Math.floor(cursor / this.batchSize);
    this.planned = { epoch, cursor: end, seed: this.seed };
    const job: SampleJob = { indices, epoch, seed: this.seed, augment: this.opts.augment, twoViews: this.opts.twoViews, skipBad: this.opts.skipBad };
    const promise = this.run(job).then((r) => {
      const labels = Int32Array.from(r.indices, (i) => this.dataset.labels[i]!);
      const b: Batch = { images: r.images, labels, indices: r.indices, epoch, batchInEpoch };
      if (r.views2) b.views2 = r.views2;
      if (r.skipped.length) b.skipped = r.skipped;
      return b;
    });
    promise.catch(() => undefined); // surfaced when next() awaits it
    return { promise, after: { ...this.planned } };
  }

  private async run(job: SampleJob): Promise<SampleResult> {
    if (this.numWorkers === 0) return prepareSamples(this.dataset, job);
    const workers = await this.startWorkers();
    const slot = workers[this.nextWorker++ % workers.length]!;
    if (slot.dead) throw slot.dead;
    const id = this.nextJobId++;
    return new Promise<SampleResult>((resolve, reject) => {
      slot.busy.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, job });
    });
  }

  private startWorkers(): Promise<WorkerSlot[]> {
    if (this.workers) return Promise.resolve(this.workers);
    this.workersStarting ??= (async () => {
      const url = await loaderWorkerUrl();
      const descriptor = this.dataset.descriptor!();
      const slots = Array.from({ length: this.numWorkers }, () => {
        const slot: WorkerSlot = { worker: new Worker(url, { workerData: { descriptor } }), busy: new Map() };
        // keep the process alive only while a job is out (an idle loader must not block exit)
        slot.worker.unref();
        slot.worker.on('message', (m: { id: number; ok: boolean; result?: SampleResult; message?: string; file?: string; dataError?: boolean }) => {
          const p = slot.busy.get(m.id);
          if (!p) return;
          slot.busy.delete(m.id);
          if (slot.busy.size === 0) slot.worker.unref();
          if (m.ok) p.resolve(m.result!);
          else p.reject(m.dataError ? new DataError(m.message!, m.file) : new Error(m.message));
        });
        const fail = (e: Error) => {
          slot.dead = new DataError(`BatchLoader worker failed: ${e.message}. Retry with numWorkers: 0 to see the error on the main thread.`);
          for (const p of slot.busy.values()) p.reject(slot.dead);
          slot.busy.clear();
        };
        slot.worker.on('error', fail);
        slot.worker.on('exit', (code) => {
          if (!this.closed && code !== 0) fail(new Error(`exited with code ${code}`));
        });
        return slot;
      });
      this.workers = slots;
      return slots;
    })();
    return this.workersStarting;
  }
}
