// Verification at a lower capture resolution: every crop of a set shrunk to px×px (area average) and brought back to
// the model's input size (bilinear) — the same degradation as the `lowres` training augmentation (downscaleRestore),
// so that a model fine-tuned for small faces is tested on what it was trained for. Surveillance-style benchmarks
// (TinyFace, SCface) show faces of roughly 16–32 px; this reproduces the resolution, not their blur or noise.
import { downscaleRestore } from '../augment.js';
import { DataError } from '../errors.js';

/** A pair set of imageSize×imageSize RGB crops (VerificationSet, or @facet/eval's PairImages). */
interface PairCrops {
  name: string;
  imagesA: Uint8Array[];
  imagesB: Uint8Array[];
}

export function lowResolutionSet<T extends PairCrops>(set: T, px: number, imageSize: number): T {
  if (!Number.isInteger(px) || px < 1 || px > imageSize) {
    throw new DataError(`--low-res ${px}: must be a whole number of pixels from 1 to the model's input size ${imageSize}`, set.name);
  }
  if (px === imageSize) return set;
  const cache = new Map<Uint8Array, Uint8Array>();
  const degrade = (img: Uint8Array) => {
    let d = cache.get(img);
    if (!d) cache.set(img, (d = downscaleRestore(img, imageSize, px)));
    return d;
  };
  return { ...set, name: `${set.name}@${px}px`, imagesA: set.imagesA.map(degrade), imagesB: set.imagesB.map(degrade) };
}
