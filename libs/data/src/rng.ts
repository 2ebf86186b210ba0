// Seedable PRNG (xoshiro128**, Blackman & Vigna 2018) plus a seed-mixing hash. Everything random in @facet/data
// derives its stream from mixSeed(seed, ...coordinates), so a sample's augmentation depends only on
// (seed, epoch, index, view) and never on which worker thread or in which order it was produced.

/** The four 32-bit words of xoshiro128** state; enough to resume a stream exactly. */
export type RngState = [number, number, number, number];

export interface Rng {
  /** Uniform in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform integer in [0, n) without modulo bias (n ≤ 2^32). */
  int(n: number): number;
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number;
  /** Normal(mean, std) via Box–Muller. */
  normal(mean?: number, std?: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  getState(): RngState;
  setState(state: RngState): void;
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** splitmix32 step, used only to expand a 32-bit seed into the 128-bit state (never all zero). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Hash any number of integer coordinates (each taken modulo 2^53, split into two 32-bit halves) into one 32-bit
 * seed with MurmurHash3's mixing steps. Distinct tuples give (with overwhelming probability) unrelated seeds.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x2f693b55 ^ parts.length;
  const mix = (k: number) => {
    k = Math.imul(k, 0xcc9e2d51);
    k = rotl(k, 15);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = rotl(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  for (const p of parts) {
    if (!Number.isFinite(p)) throw new Error(`mixSeed: seed parts must be finite integers, got ${p}`);
    const v = Math.trunc(p);
    const lo = v >>> 0;
    const hi = Math.floor(v / 4294967296) >>> 0;
    mix(lo);
    mix(hi);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

class Xoshiro128 implements Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    const st = { s: mixSeed(seed) | 0 };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    const a = this.uint32() >>> 5; // 27 bits
    const b = this.uint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  int(n: number): number {
    if (!(n >= 1) || n > 4294967296 || !Number.isInteger(n)) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    // rejection sampling on the top of the 32-bit range removes the modulo bias
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  normal(mean = 0, std = 1): number {
    // no cached spare: the whole stream state is the four words, so getState/setState resume exactly
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  getState(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.every((w) => (w >>> 0) === 0)) {
      throw new Error('Rng.setState: expected four 32-bit words, not all zero (as returned by getState())');
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0) as RngState;
  }
}

/** A small, fast, seedable PRNG. `makeRng(mixSeed(seed, epoch, index))` gives a per-sample stream. */
export function makeRng(seed: number): Rng {
  return new Xoshiro128(seed);
}

/** Fisher–Yates shuffle in place, driven by `rng`. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(arr: T, rng: Rng): T {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return arr;
}
