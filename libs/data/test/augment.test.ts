import { describe, expect, it } from 'vitest';
import {
  adjustBrightness,
  adjustContrast,
  adjustSaturation,
  augment,
  AUGMENT_PRESETS,
  downscaleRestore,
  flipHorizontal,
  sampleResizedCropBox,
  toGrayscale,
  validateAugmentOptions,
} from '../src/augment.js';
import { gaussianBlurFloat } from '../src/image/blur.js';
import { normalizeImages } from '../src/normalize.js';
import { makeRng } from '../src/rng.js';
import { noise } from './fixtures.js';

const S = 16;

describe('augmentation ops against float64 reference loops', () => {
  it('flipHorizontal mirrors every row', () => {
    const px = noise(S, S, 1);
    const f = flipHorizontal(px, S);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) expect(f[(y * S + x) * 3 + c]).toBe(px[(y * S + S - 1 - x) * 3 + c]);
    expect(Buffer.from(flipHorizontal(f, S)).equals(Buffer.from(px))).toBe(true);
  });

  it('grayscale, brightness, saturation and contrast follow their formulas', () => {
    const px = noise(S, S, 2);
    const luma = (i: number) => 0.299 * px[i]! + 0.587 * px[i + 1]! + 0.114 * px[i + 2]!;
    const g = Float32Array.from(px);
    toGrayscale(g);
    const b = Float32Array.from(px);
    adjustBrightness(b, 1.3);
    const s = Float32Array.from(px);
    adjustSaturation(s, 0.4);
    const c = Float32Array.from(px);
    adjustContrast(c, 0.7);
    let mean = 0;
    for (let i = 0; i < px.length; i += 3) mean += luma(i);
    mean /= S * S;
    for (let i = 0; i < px.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        expect(g[i + k]).toBeCloseTo(luma(i), 3);
        expect(b[i + k]).toBeCloseTo(px[i + k]! * 1.3, 3);
        expect(s[i + k]).toBeCloseTo(luma(i) + 0.4 * (px[i + k]! - luma(i)), 3);
        expect(c[i + k]).toBeCloseTo(mean + 0.7 * (px[i + k]! - mean), 2);
      }
    }
  });

  it('separable Gaussian blur equals a direct 2-D convolution with reflected borders', () => {
    const W = 11;
    const H = 9;
    const sigma = 1.3;
    const px = noise(W, H, 3);
    const f = Float32Array.from(px);
    gaussianBlurFloat(f, W, H, sigma);
    const r = Math.ceil(3 * sigma);
    const refl = (i: number, n: number) => {
      while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
      return i;
    };
    let z = 0;
    for (let t = -r; t <= r; t++) z += Math.exp(-(t * t) / (2 * sigma * sigma));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let dy = -r; dy <= r; dy++) {
            for (let dx = -r; dx <= r; dx++) {
              const w = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) / (z * z);
              acc += w * px[(refl(y + dy, H) * W + refl(x + dx, W)) * 3 + c]!;
            }
          }
          expect(f[(y * W + x) * 3 + c]).toBeCloseTo(acc, 2);
        }
      }
    }
  });

  it('down-scale-and-restore removes detail finer than the small size and keeps flat images flat', () => {
    const N = 32;
    const checker = new Uint8Array(N * N * 3);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) checker.fill((x + y) % 2 ? 255 : 0, (y * N + x) * 3, (y * N + x) * 3 + 3);
    const out = downscaleRestore(checker, N, 8);
    for (const v of out) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(1);
    const flat = new Uint8Array(N * N * 3).fill(77);
    expect(downscaleRestore(flat, N, 11).every((v) => v === 77)).toBe(true);
    // a horizontal ramp survives approximately
    const ramp = new Uint8Array(N * N * 3);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) ramp.fill(x * 8, (y * N + x) * 3, (y * N + x) * 3 + 3);
    const r = downscaleRestore(ramp, N, 8);
    for (let x = 4; x < N - 4; x++) expect(Math.abs(r[(16 * N + x) * 3]! - x * 8)).toBeLessThanOrEqual(4);
  });

  it('random resized crop boxes stay inside the image with area and ratio in range', () => {
    const rng = makeRng(4);
    for (let i = 0; i < 500; i++) {
      const b = sampleResizedCropBox(112, { scale: [0.5, 1], ratio: [3 / 4, 4 / 3] }, rng);
      expect(b.x >= 0 && b.y >= 0 && b.x + b.width <= 112 && b.y + b.height <= 112).toBe(true);
      const area = (b.width * b.height) / (112 * 112);
      expect(area).toBeGreaterThan(0.45);
      expect(b.width / b.height).toBeGreaterThan(0.7);
      expect(b.width / b.height).toBeLessThan(1.4);
    }
    // scale [1,1], ratio [1,1] is the whole image: the crop is the identity
    const px = noise(S, S, 5);
    const out = augment(px, S, { flip: false, randomResizedCrop: { scale: [1, 1], ratio: [1, 1] } }, makeRng(1));
    expect(Buffer.from(out).equals(Buffer.from(px))).toBe(true);
  });

  it('normalizeImages computes (x − 127.5)/127.5', () => {
    const px = Uint8Array.from([0, 1, 127, 128, 254, 255]);
    const out = normalizeImages(px);
    px.forEach((v, i) => expect(out[i]).toBeCloseTo((v - 127.5) / 127.5, 6));
    expect(() => normalizeImages(px, new Float32Array(3))).toThrow(/holds 3 floats/);
  });
});

describe('augment()', () => {
  const all = {
    flip: true,
    randomResizedCrop: { scale: [0.6, 1] as [number, number], ratio: [0.8, 1.25] as [number, number] },
    colorJitter: { brightness: 0.3, contrast: 0.3, saturation: 0.3 },
    blur: { sigma: [0.5, 1.5] as [number, number], p: 0.5 },
    grayscale: 0.3,
    downscale: { minSize: 8, maxSize: 12, p: 0.5 },
  };

  it('is deterministic given the rng state and never modifies its input', () => {
    const px = noise(S, S, 6);
    const copy = px.slice();
    const a = augment(px, S, all, makeRng(11));
    const b = augment(px, S, all, makeRng(11));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(px).equals(Buffer.from(copy))).toBe(true);
    const outs = new Set(Array.from({ length: 10 }, (_, s) => Buffer.from(augment(px, S, all, makeRng(100 + s))).toString('hex')));
    expect(outs.size).toBeGreaterThan(8);
  });

  it('flip alone flips about half the time (insightface p = 0.5)', () => {
    const px = noise(S, S, 7);
    const flipped = Buffer.from(flipHorizontal(px, S));
    let n = 0;
    for (let s = 0; s < 400; s++) if (Buffer.from(augment(px, S, AUGMENT_PRESETS.insightface, makeRng(s))).equals(flipped)) n++;
    expect(n).toBeGreaterThan(160);
    expect(n).toBeLessThan(240);
  });

  it('validates options at the boundary with a message naming the option', () => {
    expect(() => validateAugmentOptions({ grayscale: 2 })).toThrow(/grayscale must be a probability/);
    expect(() => validateAugmentOptions({ downscale: { minSize: 32, maxSize: 8, p: 1 } })).toThrow(/downscale needs integers/);
    expect(() => validateAugmentOptions({ randomResizedCrop: { scale: [0.9, 0.2], ratio: [1, 1] } })).toThrow(/randomResizedCrop.scale/);
    expect(() => augment(new Uint8Array(10), S, {}, makeRng(0))).toThrow(/expected 16×16×3/);
    for (const p of Object.values(AUGMENT_PRESETS)) expect(validateAugmentOptions(p)).toBe(p);
  });
});
