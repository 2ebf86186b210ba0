// The small seeded generator the libs use where a stream must not depend on tfjs' own generator (gallery splits,
// sampled metric estimates, inversion jitter). @facet/data has its own resumable xoshiro128** for the data loader.

/** mulberry32: deterministic floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
