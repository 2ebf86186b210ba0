// Training-time augmentation on RGB uint8 crops. insightface's arcface_torch uses only a horizontal flip (p = 0.5);
// the optional ops follow torchvision semantics (RandomResizedCrop, ColorJitter, GaussianBlur, RandomGrayscale)
// plus down-scale-and-restore, the very-low-resolution augmentation of the recognisability work (8–32 px).
// Order: crop → flip → colour jitter → grayscale → blur → down-scale (the camera sees the scene, then optics
// blur it, then the sensor samples it coarsely). Every random choice comes from the `rng` passed in.

import { gaussianBlurFloat } from './image/blur.js';
import { clampByte, resizeRgb } from './image/resample.js';
import type { Rng } from './rng.js';

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image. */
  scale: [number, number];
  /** Range of the crop's aspect ratio w/h (sampled log-uniformly). */
  ratio: [number, number];
  /** Probability of cropping at all (default 1). */
  p?: number;
}

export interface ColorJitterOptions {
  /** Factor drawn from [max(0, 1−b), 1+b]; 0 disables. */
  brightness: number;
  contrast: number;
  saturation: number;
  /** Probability of jittering at all (default 1). */
  p?: number;
}

export interface BlurOptions {
  /** σ range in pixels. */
  sigma: [number, number];
  p: number;
}

export interface DownscaleOptions {
  /** Smallest side the image is shrunk to (default 8). */
  minSize: number;
  /** Largest (default 32). */
  maxSize: number;
  p: number;
}

export interface AugmentOptions {
  /** Horizontal flip with p = 0.5 (insightface default: true). */
  flip?: boolean;
  randomResizedCrop?: RandomResizedCropOptions | false;
  colorJitter?: ColorJitterOptions | false;
  blur?: BlurOptions | false;
  /** Probability of converting to grayscale (3 equal channels). */
  grayscale?: number | false;
  downscale?: DownscaleOptions | false;
}

/** Named settings: insightface (flip only), dali (arcface_torch's DALI extra aug), lowres (recognisability work). */
export const AUGMENT_PRESETS: Record<'none' | 'insightface' | 'dali' | 'lowres' | 'contrastive', AugmentOptions> = {
  none: { flip: false },
  insightface: { flip: true },
  // arcface_torch dataset.py dali_aug: p=.1 resize down to 56–89 px and back, p=.2 blur, p=.2 colour, p=.1 grey
  dali: {
    flip: true,
    downscale: { minSize: 56, maxSize: 89, p: 0.1 },
    blur: { sigma: [0.5, 1.5], p: 0.2 },
    colorJitter: { brightness: 0, contrast: 0, saturation: 0.2, p: 0.2 },
    grayscale: 0.1,
  },
  lowres: { flip: true, downscale: { minSize: 8, maxSize: 32, p: 0.5 }, blur: { sigma: [0.3, 1.2], p: 0.2 } },
  // SimCLR-style views for the contrastive metrics (milder crop than ImageNet's: faces are aligned)
  contrastive: {
    flip: true,
    randomResizedCrop: { scale: [0.6, 1], ratio: [3 / 4, 4 / 3] },
    colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, p: 0.8 },
    grayscale: 0.2,
    blur: { sigma: [0.1, 2], p: 0.5 },
  },
};

/** Check an AugmentOptions object at the boundary; returns it. */
export function validateAugmentOptions(o: AugmentOptions, where = 'augment'): AugmentOptions {
  const bad = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  const prob = (p: unknown, name: string) => {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) bad(`${name} must be a probability in [0, 1], got ${String(p)}`);
  };
  const range = (r: unknown, name: string, lo: number, hi: number) => {
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] >= lo && r[1] <= hi && r[0] <= r[1])) bad(`${name} must be [min, max] with ${lo} ≤ min ≤ max ≤ ${hi}, got ${JSON.stringify(r)}`);
  };
  if (o.flip !== undefined && typeof o.flip !== 'boolean') bad('flip must be true or false');
  if (o.randomResizedCrop) {
    range(o.randomResizedCrop.scale, 'randomResizedCrop.scale', 1e-3, 1);
    range(o.randomResizedCrop.ratio, 'randomResizedCrop.ratio', 1e-2, 100);
    if (o.randomResizedCrop.p !== undefined) prob(o.randomResizedCrop.p, 'randomResizedCrop.p');
  }
  if (o.colorJitter) {
    for (const k of ['brightness', 'contrast', 'saturation'] as const) {
      const v = o.colorJitter[k];
      if (typeof v !== 'number' || !(v >= 0)) bad(`colorJitter.${k} must be a number ≥ 0, got ${String(v)}`);
    }
    if (o.colorJitter.p !== undefined) prob(o.colorJitter.p, 'colorJitter.p');
  }
  if (o.blur) {
    range(o.blur.sigma, 'blur.sigma', 0, 50);
    prob(o.blur.p, 'blur.p');
  }
  if (o.grayscale !== undefined && o.grayscale !== false) prob(o.grayscale, 'grayscale');
  if (o.downscale) {
    const { minSize, maxSize, p } = o.downscale;
    if (!Number.isInteger(minSize) || !Number.isInteger(maxSize) || minSize < 1 || minSize > maxSize) bad(`downscale needs integers 1 ≤ minSize ≤ maxSize, got ${minSize}, ${maxSize}`);
    prob(p, 'downscale.p');
  }
  return o;
}

/** Mirror left–right. */
export function flipHorizontal(img: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let x = 0; x < size; x++) {
      const s = row + (size - 1 - x) * 3;
      const d = row + x * 3;
      out[d] = img[s]!;
      out[d + 1] = img[s + 1]!;
      out[d + 2] = img[s + 2]!;
    }
  }
  return out;
}

/**
 * torchvision RandomResizedCrop.get_params: up to 10 tries of area ~ U(scale)·A and log-uniform ratio; a box that
 * fits is placed uniformly; else the central crop with the ratio clamped into range. Returns x, y, w, h.
 */
export function sampleResizedCropBox(size: number, o: RandomResizedCropOptions, rng: Rng): { x: number; y: number; width: number; height: number } {
  const area = size * size;
  const logR = [Math.log(o.ratio[0]), Math.log(o.ratio[1])] as const;
  for (let i = 0; i < 10; i++) {
    const target = area * rng.uniform(o.scale[0], o.scale[1]);
    const ratio = Math.exp(rng.uniform(logR[0], logR[1]));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= size && h <= size) {
      return { x: rng.int(size - w + 1), y: rng.int(size - h + 1), width: w, height: h };
    }
  }
  const ratio = Math.min(Math.max(1, o.ratio[0]), o.ratio[1]);
  const w = ratio < 1 ? Math.round(size * ratio) : size;
  const h = ratio > 1 ? Math.round(size / ratio) : size;
  return { x: Math.floor((size - w) / 2), y: Math.floor((size - h) / 2), width: w, height: h };
}

const LUMA = [0.299, 0.587, 0.114] as const; // ITU-R 601-2, as PIL's convert('L') and torchvision rgb_to_grayscale

/** Brightness: x·f. */
export function adjustBrightness(img: Float32Array, f: number): void {
  for (let i = 0; i < img.length; i++) img[i] = img[i]! * f;
}

/** Contrast: blend with the mean grey level of the image: m + f·(x − m). */
export function adjustContrast(img: Float32Array, f: number): void {
  let sum = 0;
  for (let i = 0; i < img.length; i += 3) sum += LUMA[0] * clamp255(img[i]!) + LUMA[1] * clamp255(img[i + 1]!) + LUMA[2] * clamp255(img[i + 2]!);
  const m = sum / (img.length / 3);
  for (let i = 0; i < img.length; i++) img[i] = m + f * (img[i]! - m);
}

/** Saturation: blend each pixel with its own grey value: g + f·(x − g). */
export function adjustSaturation(img: Float32Array, f: number): void {
  for (let i = 0; i < img.length; i += 3) {
    const g = LUMA[0] * img[i]! + LUMA[1] * img[i + 1]! + LUMA[2] * img[i + 2]!;
    img[i] = g + f * (img[i]! - g);
    img[i + 1] = g + f * (img[i + 1]! - g);
    img[i + 2] = g + f * (img[i + 2]! - g);
  }
}

/** Replace each pixel by its luma (three equal channels). */
export function toGrayscale(img: Float32Array): void {
  for (let i = 0; i < img.length; i += 3) {
    const g = LUMA[0] * img[i]! + LUMA[1] * img[i + 1]! + LUMA[2] * img[i + 2]!;
    img[i] = g;
    img[i + 1] = g;
    img[i + 2] = g;
  }
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

function clampInPlace(img: Float32Array): void {
  for (let i = 0; i < img.length; i++) img[i] = clamp255(img[i]!);
}

/** Shrink to `small`×`small` (area average) and bring back to size×size (bilinear). */
export function downscaleRestore(img: Uint8Array, size: number, small: number): Uint8Array {
  const down = resizeRgb(img, size, size, small, small, 'box');
  return resizeRgb(down, small, small, size, size, 'triangle');
}

/**
 * Apply the enabled augmentations to one size×size RGB crop (returns a new array; `img` is not modified).
 * Deterministic given the rng state: the loader seeds it from (seed, epoch, index, view).
 */
export function augment(img: Uint8Array, size: number, opts: AugmentOptions, rng: Rng): Uint8Array {
  if (img.length !== size * size * 3) throw new Error(`augment: image has ${img.length} bytes, expected ${size}×${size}×3`);
  let out = img;
  const rrc = opts.randomResizedCrop;
  if (rrc && rng.chance(rrc.p ?? 1)) {
    const box = sampleResizedCropBox(size, rrc, rng);
    out = resizeRgb(out, size, size, size, size, 'triangle', box);
  }
  if ((opts.flip ?? true) && rng.chance(0.5)) out = flipHorizontal(out, size);

  const cj = opts.colorJitter;
  const doJitter = !!cj && rng.chance(cj.p ?? 1);
  const doGray = opts.grayscale !== undefined && opts.grayscale !== false && rng.chance(opts.grayscale);
  const blur = opts.blur;
  const blurSigma = blur && rng.chance(blur.p) ? rng.uniform(blur.sigma[0], blur.sigma[1]) : 0;
  if (doJitter || doGray || blurSigma > 0) {
    const f = Float32Array.from(out);
    if (doJitter && cj) {
      // torchvision ColorJitter: a random order of the enabled adjustments, each with a factor in [1−x, 1+x]
      const ops: Array<[number, (img: Float32Array, f: number) => void]> = [];
      if (cj.brightness > 0) ops.push([cj.brightness, adjustBrightness]);
      if (cj.contrast > 0) ops.push([cj.contrast, adjustContrast]);
      if (cj.saturation > 0) ops.push([cj.saturation, adjustSaturation]);
      for (let i = ops.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [ops[i], ops[j]] = [ops[j]!, ops[i]!];
      }
      for (const [amount, op] of ops) {
        op(f, rng.uniform(Math.max(0, 1 - amount), 1 + amount));
        clampInPlace(f); // torchvision clamps after each adjustment
      }
    }
    if (doGray) toGrayscale(f);
    if (blurSigma > 0) gaussianBlurFloat(f, size, size, blurSigma);
    out = new Uint8Array(f.length);
    for (let i = 0; i < f.length; i++) out[i] = clampByte(f[i]!);
  }
  const ds = opts.downscale;
  if (ds && rng.chance(ds.p)) {
    const small = ds.minSize + rng.int(ds.maxSize - ds.minSize + 1);
    if (small < size) out = downscaleRestore(out, size, small);
  }
  return out === img ? img.slice() : out;
}
