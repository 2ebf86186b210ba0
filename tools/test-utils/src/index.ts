// Helpers the libs' tests share. mulberry32 is the same algorithm as @facet/engine's, written again on purpose: the
// engine's own tests use this package (importing the engine here would be a cycle), and a test's inputs must not
// change when a library's generator does.

/** mulberry32: deterministic floats in [0, 1). */
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

/** n deterministic floats uniform in [-1, 1), float64. */
export function uniformFloat64(n: number, seed: number): Float64Array {
  const next = mulberry32(seed);
  return Float64Array.from({ length: n }, () => next() * 2 - 1);
}

/** The same numbers as uniformFloat64, rounded to float32. */
export function uniformFloat32(n: number, seed: number): Float32Array {
  return Float32Array.from(uniformFloat64(n, seed));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Largest absolute error relative to the largest reference magnitude. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  return maxAbsDiff(got, want) / Math.max(maxAbs(want), 1e-30);
}
