// Synchronisation between the replica threads on shared memory: a barrier, the small float64 all-reduce that
// SyncBN's statistics need, and the reduce of the backbone gradients. Workers block in Atomics.wait (allowed off the
// main thread); every wait wakes up periodically to honour the group's abort word, so a crashed replica or a
// failing main thread never leaves the others hanging.
import { CTL } from './shared-buffers.js';

/** Thrown inside a replica when the group was aborted while it waited. */
export class ReplicaAbortedError extends Error {
  constructor() {
    super('replica group aborted');
    this.name = 'ReplicaAbortedError';
  }
}

const WAKE_MS = 200;

export class ReplicaSync {
  private calls = 0;
  /** Milliseconds spent blocked waiting for the other replicas or the main thread (lock-step cost), since reset. */
  waitedMs = 0;

  constructor(
    private readonly control: Int32Array,
    private readonly stats: Float64Array,
    private readonly statLength: number,
    readonly rank: number,
    readonly workers: number,
  ) {}

  private checkAbort(): void {
    if (Atomics.load(this.control, CTL.abort) !== 0) throw new ReplicaAbortedError();
  }

  /** Sense-counting barrier: the last arrival resets the count and bumps the generation, waking the rest. */
  barrier(): void {
    const c = this.control;
    const generation = Atomics.load(c, CTL.barrierGeneration);
    if (Atomics.add(c, CTL.barrierCount, 1) === this.workers - 1) {
      Atomics.store(c, CTL.barrierCount, 0);
      Atomics.add(c, CTL.barrierGeneration, 1);
      Atomics.notify(c, CTL.barrierGeneration);
      return;
    }
    const t0 = performance.now();
    while (Atomics.load(c, CTL.barrierGeneration) === generation) {
      this.checkAbort();
      Atomics.wait(c, CTL.barrierGeneration, generation, WAKE_MS);
    }
    this.waitedMs += performance.now() - t0;
  }

  /**
   * Replace `sums` by their sum over the replicas, in float64 and in rank order, so every replica gets the same bits.
   * One barrier per call: the slot sets alternate with the call's parity, and a replica can only write the set again
   * after everyone has passed the next call's barrier, i.e. has finished reading this one.
   */
  allReduce(sums: Float64Array): void {
    if (sums.length > this.statLength) throw new Error(`internal: all-reduce of ${sums.length} values, slots hold ${this.statLength}`);
    const base = (this.calls++ & 1) * this.workers * this.statLength;
    this.stats.set(sums, base + this.rank * this.statLength);
    this.barrier();
    sums.fill(0);
    for (let r = 0; r < this.workers; r++) {
      const slot = base + r * this.statLength;
      for (let i = 0; i < sums.length; i++) sums[i]! += this.stats[slot + i]!;
    }
  }

  /**
   * grads = [workers][P] (this replica's row already written, barrier passed): write Σ_r grads[r] into `sum` for this
   * replica's slice of the parameters (a reduce-scatter; the caller barriers before reading the whole sum).
   */
  reduceSlice(grads: Float32Array, sum: Float32Array): void {
    const p = sum.length;
    const lo = Math.floor((p * this.rank) / this.workers);
    const hi = Math.floor((p * (this.rank + 1)) / this.workers);
    sum.set(grads.subarray(lo, hi), lo);
    for (let r = 1; r < this.workers; r++) {
      const row = r * p;
      for (let i = lo; i < hi; i++) sum[i]! += grads[row + i]!;
    }
  }

  /** Block until the main thread has published step `seq`'s embedding gradients. */
  waitForGradient(seq: number): void {
    for (;;) {
      const now = Atomics.load(this.control, CTL.gradientSeq);
      if (now >= seq) return;
      this.checkAbort();
      Atomics.wait(this.control, CTL.gradientSeq, now, WAKE_MS);
    }
  }
}

/** Main thread: publish step `seq`'s embedding gradients (written to shared memory before this call). */
export function publishGradient(control: Int32Array, seq: number): void {
  Atomics.store(control, CTL.gradientSeq, seq);
  Atomics.notify(control, CTL.gradientSeq);
}

/** Any thread: make every current and future wait of the group throw. */
export function abortGroup(control: Int32Array): void {
  Atomics.store(control, CTL.abort, 1);
  Atomics.notify(control, CTL.barrierGeneration);
  Atomics.notify(control, CTL.gradientSeq);
}
