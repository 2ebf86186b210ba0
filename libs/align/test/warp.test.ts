// The warp against closed forms: bilinear interpolation reproduces an image that is affine in (x, y) exactly, the
// border is 0 (cv2.BORDER_CONSTANT) with partial weights at the edge, and dots drawn at known landmark positions land
// on insightface's template after alignCrop.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alignCrop, applyAffine, arcfaceTemplate, invertAffine, warpAffine, type Affine, type FivePoints, type Point } from '../src/index.js';

function rampImage(W: number, H: number) {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      data[(y * W + x) * 3] = 2 * x;
      data[(y * W + x) * 3 + 1] = 3 * y;
      data[(y * W + x) * 3 + 2] = 10 + x + y;
    }
  }
  return { data, width: W, height: H };
}

describe('warpAffine', () => {
  it('reproduces an affine ramp exactly inside the image and is 0 outside', () => {
    const W = 100, H = 80;
    const img = rampImage(W, H);
    const theta = 0.3, s = 0.8;
    const m: Affine = [
      [s * Math.cos(theta), -s * Math.sin(theta), 5],
      [s * Math.sin(theta), s * Math.cos(theta), -20],
    ];
    const out = warpAffine(img, m, 90, 70);
    const inv = invertAffine(m);
    let inside = 0, outside = 0;
    for (let v = 0; v < 70; v++) {
      for (let u = 0; u < 90; u++) {
        const [x, y] = applyAffine(inv, [u, v]);
        const o = (v * 90 + u) * 3;
        if (x >= 0 && y >= 0 && x <= W - 1 && y <= H - 1) {
          inside++;
          expect(Math.abs(out.data[o]! - 2 * x)).toBeLessThanOrEqual(0.5 + 1e-6);
          expect(Math.abs(out.data[o + 1]! - 3 * y)).toBeLessThanOrEqual(0.5 + 1e-6);
          expect(Math.abs(out.data[o + 2]! - (10 + x + y))).toBeLessThanOrEqual(0.5 + 1e-6);
        } else if (x < -1 || y < -1 || x > W || y > H) {
          outside++;
          expect([out.data[o], out.data[o + 1], out.data[o + 2]]).toEqual([0, 0, 0]);
        }
      }
    }
    expect(inside).toBeGreaterThan(1000);
    expect(outside).toBeGreaterThan(100);
  });

  it('blends with the 0 border at the edge (cv2.BORDER_CONSTANT)', () => {
    const img = { data: new Uint8Array(4 * 4 * 3).fill(200), width: 4, height: 4 };
    // shift by +0.5 px: output (0, y) samples x = −0.5 → half weight on a border pixel
    const out = warpAffine(img, [[1, 0, 0.5], [0, 1, 0]], 4, 4);
    expect(out.data[(1 * 4 + 0) * 3]).toBe(100);
    expect(out.data[(1 * 4 + 1) * 3]).toBe(200);
  });
});

describe('warpAffine vs PyTorch grid_sample (fixtures/make_warp_fixture.py)', () => {
  const ref = JSON.parse(readFileSync(new URL('./fixtures/warp-torch.json', import.meta.url), 'utf8')) as {
    width: number;
    height: number;
    size: number;
    image: number[];
    cases: Array<{ matrix: Affine; out: number[] }>;
  };
  it('matches bilinear zero-padded sampling of a random image to rounding, border included', () => {
    const img = { data: Uint8Array.from(ref.image), width: ref.width, height: ref.height };
    for (const c of ref.cases) {
      const out = warpAffine(img, c.matrix, ref.size);
      let zeros = 0, worst = 0;
      c.out.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(out.data[i]! - v));
        if (v === 0) zeros++;
      });
      expect(worst).toBeLessThanOrEqual(0.5 + 1e-4);
      // each case has both image and border in view
      expect(zeros).toBeGreaterThan(10);
      expect(zeros).toBeLessThan(c.out.length - 100);
    }
  });
});

describe('alignCrop', () => {
  /** A black image with a small bright blob (Gaussian, σ 3 px) at each point. */
  function dots(W: number, H: number, pts: Point[]) {
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        pts.forEach(([px, py], k) => {
          const v = 255 * Math.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * 3 ** 2));
          const c = (y * W + x) * 3 + (k % 3);
          data[c] = Math.max(data[c]!, Math.round(v));
        });
      }
    }
    return { data, width: W, height: H };
  }

  /** Intensity-weighted centroid of channel `ch` within radius r of `near`. */
  function centroid(img: { data: Uint8Array; width: number }, ch: number, near: Point, r: number, scale = 1): Point {
    let sw = 0, sx = 0, sy = 0;
    for (let y = Math.floor(near[1] - r); y <= near[1] + r; y++) {
      for (let x = Math.floor(near[0] - r); x <= near[0] + r; x++) {
        const w = img.data[(y * img.width + x) * 3 + ch]! * scale;
        sw += w; sx += w * x; sy += w * y;
      }
    }
    return [sx / sw, sy / sw];
  }

  for (const size of [112, 224]) {
    it(`puts landmarks drawn on a photo onto the template (${size}×${size})`, () => {
      // landmarks of a face 2.6× the template's size, turned 20°, somewhere in a 400×300 photo
      const theta = (20 * Math.PI) / 180, s = 2.6;
      const toPhoto: Affine = [
        [s * Math.cos(theta), -s * Math.sin(theta), 150],
        [s * Math.sin(theta), s * Math.cos(theta), -60],
      ];
      const tpl112 = arcfaceTemplate(112);
      const photoPts = tpl112.map((p) => applyAffine(toPhoto, p)) as FivePoints;
      // eyes in one channel each so that blobs do not overlap after the warp
      const img = dots(400, 300, photoPts);
      const crop = alignCrop(img, photoPts, size);
      expect(crop.image.width).toBe(size);
      expect(crop.rms).toBeLessThan(1e-9);
      expect(crop.scale).toBeCloseTo(size / 112 / s, 9);
      expect(crop.rotationDeg).toBeCloseTo(-20, 9);
      const tpl = arcfaceTemplate(size);
      tpl.forEach((p, k) => {
        const c = centroid(crop.image, k % 3, p, 4 * (size / 112));
        expect(Math.hypot(c[0] - p[0], c[1] - p[1])).toBeLessThan(0.25);
      });
    });
  }

  it('refuses malformed landmarks', () => {
    const img = { data: new Uint8Array(40 * 40 * 3), width: 40, height: 40 };
    expect(() => alignCrop(img, [[1, 2], [3, 4]] as unknown as FivePoints)).toThrow(/five \[x, y\] points/);
    expect(() => alignCrop(img, [[1, 2], [3, 4], [5, 6], [7, 8], [9, NaN]] as FivePoints)).toThrow(/five \[x, y\] points/);
  });
});
