// Output buffers for the native kernels, recycled when their tensor is disposed. A fresh Float32Array costs more
// than the arithmetic on large tensors (zeroing and first-touch page faults: an Add of 1.6M values is 0.2 ms,
// 2.4 ms with its allocation). Recycling is only safe while nothing else can see the array, so the backend tells
// the pool (see NativeBackend in backend.ts):
// - attach: a tensor's storage now is this array (write/move); a *view* of it (the cpu Slice's subarray) or any
//   other array over the same memory marks it escaped;
// - escape: the array left the backend (readSync: tfjs's dataSync()/data() hand out the storage itself, and cpu
//   kernels read through bufferSync);
// - detach: a tensor holding it was deleted; with no tensor left and not escaped, it goes back to the pool.
// Escaped arrays are simply never reused (the garbage collector frees them as before).
import { totalmem } from 'node:os';

interface Owned {
  array: Float32Array;
  live: number;
  escaped: boolean;
}

export class BufferPool {
  private readonly idle = new Map<number, Float32Array[]>();
  private idleBytes = 0;
  private readonly owned = new WeakMap<ArrayBufferLike, Owned>();
  /** Fill every handed-out buffer with NaN (tests: a kernel that leaves an element unwritten then fails). */
  poison = process.env.FACET_NATIVE_POISON === '1';

  constructor(readonly maxIdleBytes: number) {}

  /** A buffer of n floats; zeroed only when asked (kernels that write every element need not pay for it). */
  take(n: number, zeroed = false): Float32Array {
    const a = this.idle.get(n)?.pop();
    if (a) this.idleBytes -= a.byteLength;
    const out = a ?? new Float32Array(n);
    if (!a) this.owned.set(out.buffer, { array: out, live: 0, escaped: false });
    if (zeroed) {
      if (a) out.fill(0);
    } else if (this.poison) out.fill(NaN);
    return out;
  }

  attach(values: unknown): void {
    const o = this.ownerOf(values);
    if (!o) return;
    if (values === o.array) o.live++;
    else o.escaped = true;
  }

  escape(values: unknown): void {
    const o = this.ownerOf(values);
    if (o) o.escaped = true;
  }

  detach(values: unknown): void {
    const o = this.ownerOf(values);
    if (!o || values !== o.array) return;
    o.live--;
    if (o.live > 0 || o.escaped || this.idleBytes + o.array.byteLength > this.maxIdleBytes) return;
    this.idleBytes += o.array.byteLength;
    const list = this.idle.get(o.array.length);
    if (list) list.push(o.array);
    else this.idle.set(o.array.length, [o.array]);
  }

  stats(): { idleBytes: number; idleBuffers: number } {
    let idleBuffers = 0;
    for (const l of this.idle.values()) idleBuffers += l.length;
    return { idleBytes: this.idleBytes, idleBuffers };
  }

  private ownerOf(values: unknown): Owned | undefined {
    return ArrayBuffer.isView(values) ? this.owned.get(values.buffer) : undefined;
  }
}

/**
 * Idle bytes the pool may keep: a quarter of the machine's RAM, between 1 and 8 GiB (`FACET_NATIVE_POOL_MIB`
 * overrides). At batch 32 one 112² activation of IResNet-18 is 102 MB and a step's tensors total ~6 GiB: with a
 * 1 GiB cap most of the backward pass's outputs were fresh allocations, and their page faults made the channel loops
 * (BatchNorm/PReLU gradients) 3–5× slower than their arithmetic.
 */
export function poolCapBytes(env: NodeJS.ProcessEnv = process.env, total: number = totalmem()): number {
  const mib = Number(env.FACET_NATIVE_POOL_MIB);
  if (env.FACET_NATIVE_POOL_MIB !== undefined && Number.isFinite(mib) && mib >= 0) return mib * 2 ** 20;
  return Math.min(8 * 2 ** 30, Math.max(2 ** 30, total / 4));
}

/** The pool every native kernel allocates from. */
export const outputPool = new BufferPool(poolCapBytes());
