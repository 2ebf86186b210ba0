// Unrecognizable images for the UI centre when the user has no folder of them (issue 10; theory.md §3.2 [ours]):
// heavy degradations of ordinary face crops. Deng et al. found their UI cluster in detector output (tiny, blurred,
// non-face detections); these four kinds imitate that: down-scaled to a few pixels, strongly blurred, drowned in
// noise, or a crop of a corner that holds no face.
import { augment, makeRng, mixSeed, resizeRgb, downscaleRestore, type Rng } from '@facet/data';

export type UnrecognizableKind = 'tiny' | 'blur' | 'noise' | 'crop';
export const UNRECOGNIZABLE_KINDS: readonly UnrecognizableKind[] = ['tiny', 'blur', 'noise', 'crop'];

export interface UnrecognizableOptions {
  /** Degradations to cycle through. Default all four. */
  kinds?: UnrecognizableKind[];
  /** 'tiny': side in pixels the image is shrunk to (area average) before bilinear restore. Default [3, 8]. */
  tinySize?: [number, number];
  /** 'blur': Gaussian σ as a fraction of the image side. Default [0.08, 0.15] (9–17 px at 112). */
  blurSigma?: [number, number];
  /** 'noise': per-pixel Gaussian noise std in grey levels (0–255), on a 2×-down-scaled image. Default [60, 90]. */
  noiseStd?: [number, number];
  /** 'crop': side of the corner crop as a fraction of the image side. Default [0.12, 0.2]. */
  cropFraction?: [number, number];
}

export const UNRECOGNIZABLE_DEFAULTS: Required<UnrecognizableOptions> = {
  kinds: [...UNRECOGNIZABLE_KINDS],
  tinySize: [3, 8],
  blurSigma: [0.08, 0.15],
  noiseStd: [60, 90],
  cropFraction: [0.12, 0.2],
};

function resolve(o: UnrecognizableOptions): Required<UnrecognizableOptions> {
  const r = { ...UNRECOGNIZABLE_DEFAULTS, ...o };
  if (!Array.isArray(r.kinds) || r.kinds.length === 0 || r.kinds.some((k) => !UNRECOGNIZABLE_KINDS.includes(k))) {
    throw new Error(`unrecognizable images: kinds must be a non-empty list of ${UNRECOGNIZABLE_KINDS.join(', ')} (got ${JSON.stringify(r.kinds)}).`);
  }
  const range = (name: string, v: [number, number], lo: number, hi: number) => {
    if (!Array.isArray(v) || v.length !== 2 || !(v[0] >= lo && v[0] <= v[1] && v[1] <= hi)) {
      throw new Error(`unrecognizable images: ${name} must be [min, max] with ${lo} ≤ min ≤ max ≤ ${hi} (got ${JSON.stringify(v)}).`);
    }
  };
  range('tinySize', r.tinySize, 1, 16);
  range('blurSigma', r.blurSigma, 0.01, 0.45);
  range('noiseStd', r.noiseStd, 0, 255);
  range('cropFraction', r.cropFraction, 0.02, 0.5);
  return r;
}

const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** One degraded copy of a size×size RGB crop (a new array; `img` is untouched). */
export function unrecognizableImage(img: Uint8Array, size: number, kind: UnrecognizableKind, rng: Rng, options: UnrecognizableOptions = {}): Uint8Array {
  if (img.length !== size * size * 3) throw new Error(`unrecognizableImage: the image has ${img.length} bytes, expected ${size}×${size}×3.`);
  const o = resolve(options);
  switch (kind) {
    case 'tiny': {
      const s = Math.min(size - 1, o.tinySize[0] + rng.int(o.tinySize[1] - o.tinySize[0] + 1));
      return downscaleRestore(img, size, Math.max(1, s));
    }
    case 'blur': {
      const sigma = Math.min(50, size * rng.uniform(o.blurSigma[0], o.blurSigma[1]));
      return augment(img, size, { flip: false, blur: { sigma: [sigma, sigma], p: 1 } }, rng);
    }
    case 'noise': {
      const base = downscaleRestore(img, size, Math.max(1, Math.floor(size / 2)));
      const std = rng.uniform(o.noiseStd[0], o.noiseStd[1]);
      const out = new Uint8Array(base.length);
      for (let i = 0; i < base.length; i++) out[i] = clampByte(base[i]! + rng.normal(0, std));
      return out;
    }
    case 'crop': {
      const side = Math.max(2, Math.round(size * rng.uniform(o.cropFraction[0], o.cropFraction[1])));
      const corner = rng.int(4);
      const inset = rng.int(Math.max(1, Math.floor(size * 0.03)) + 1);
      const x = corner % 2 === 0 ? inset : size - side - inset;
      const y = corner < 2 ? inset : size - side - inset;
      return resizeRgb(img, size, size, size, size, 'triangle', { x, y, width: side, height: side });
    }
    default:
      throw new Error(`unrecognizableImage: unknown kind ${String(kind)}; use one of ${UNRECOGNIZABLE_KINDS.join(', ')}.`);
  }
}

/**
 * `count` unrecognizable images made from `images` (cycled), the kinds taken in turn; deterministic in `seed`.
 * Default count = images.length.
 */
export function unrecognizableImages(
  images: Uint8Array[],
  size: number,
  opts: UnrecognizableOptions & { count?: number; seed?: number } = {},
): Uint8Array[] {
  if (!Array.isArray(images) || images.length === 0) throw new Error('unrecognizableImages: no source images; pass face crops to degrade.');
  const count = opts.count ?? images.length;
  if (!Number.isInteger(count) || count < 1) throw new Error(`unrecognizableImages: count must be an integer ≥ 1 (got ${count}).`);
  const o = resolve(opts);
  const seed = opts.seed ?? 0;
  return Array.from({ length: count }, (_, i) =>
    unrecognizableImage(images[i % images.length]!, size, o.kinds[i % o.kinds.length]!, makeRng(mixSeed(seed, 0x0a11, i)), o),
  );
}

/**
 * Degraded copies of `count` images of a normalised NHWC batch ((p − 127.5)/127.5), returned in the same
 * normalisation: the unrecognizable rows a recognizability training step appends to its batch.
 */
export function unrecognizableBatch(images: Float32Array, size: number, count: number, seed: number, options: UnrecognizableOptions = {}): Float32Array {
  const pixels = size * size * 3;
  if (images.length % pixels !== 0 || images.length === 0) throw new Error(`unrecognizableBatch: ${images.length} floats are not whole ${size}×${size}×3 images.`);
  const n = images.length / pixels;
  if (!Number.isInteger(count) || count < 1) throw new Error(`unrecognizableBatch: count must be an integer ≥ 1 (got ${count}).`);
  const o = resolve(options);
  const rng = makeRng(mixSeed(seed, 0x0a12));
  const out = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) {
    const src = rng.int(n);
    const u8 = new Uint8Array(pixels);
    for (let p = 0; p < pixels; p++) u8[p] = clampByte(images[src * pixels + p]! * 127.5 + 127.5);
    const d = unrecognizableImage(u8, size, o.kinds[rng.int(o.kinds.length)]!, rng, o);
    for (let p = 0; p < pixels; p++) out[i * pixels + p] = (d[p]! - 127.5) / 127.5;
  }
  return out;
}
