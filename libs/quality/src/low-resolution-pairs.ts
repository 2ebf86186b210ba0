// A verification set with very-low-resolution images mixed in (surveillance-like probes): each image is, with
// probability `fraction`, shrunk to s×s pixels (s uniform in [minSize, maxSize], area average) and restored
// bilinearly. The flags say which images were degraded, so a quality measure can be checked for separating them.
import { downscaleRestore, makeRng, mixSeed } from '@facet/data';
import type { QualityPairs } from './pairs-quality.js';

export interface LowResolutionOptions {
  /** Probability that an image is degraded. Default 0.3. */
  fraction?: number;
  /** Side range of the down-scaled image in pixels. Default [6, 16]. */
  minSize?: number;
  maxSize?: number;
  seed?: number;
}

export function mixLowResolution<T extends QualityPairs>(
  set: T,
  size: number,
  opts: LowResolutionOptions = {},
): { set: T; degradedA: boolean[]; degradedB: boolean[] } {
  const fraction = opts.fraction ?? 0.3;
  const lo = opts.minSize ?? 6;
  const hi = opts.maxSize ?? 16;
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`mixLowResolution: fraction must be in [0, 1] (got ${fraction}).`);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || lo > hi || hi >= size) {
    throw new Error(`mixLowResolution: need integers 1 ≤ minSize ≤ maxSize < ${size} (got ${lo}, ${hi}).`);
  }
  const rng = makeRng(mixSeed(opts.seed ?? 0, 0x10e5));
  const degrade = (imgs: Uint8Array[]) => {
    const flags: boolean[] = [];
    const out = imgs.map((img) => {
      const hit = rng.chance(fraction);
      const s = lo + rng.int(hi - lo + 1);
      flags.push(hit);
      return hit ? downscaleRestore(img, size, s) : img;
    });
    return { out, flags };
  };
  const a = degrade(set.imagesA);
  const b = degrade(set.imagesB);
  return { set: { ...set, name: `${set.name} + ${Math.round(100 * fraction)}% at ${lo}–${hi} px`, imagesA: a.out, imagesB: b.out }, degradedA: a.flags, degradedB: b.flags };
}
