// Detection on real photos (fixtures/photos, see fixtures/SOURCES.md): the detection rate and speed are reported,
// the five points are checked for plausibility against the box and each other, and tensors do not leak.
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@facet/engine';
import { resizeRgb } from '@facet/data';
import { alignCrop, alignLargestFace, applyAffine, detectFaces, loadFaceApi, toRawImage, type DetectedFace } from '../src/index.js';

const PHOTOS = fileURLToPath(new URL('./fixtures/photos', import.meta.url));
const files = readdirSync(PHOTOS).sort().flatMap((id) => readdirSync(join(PHOTOS, id)).map((f) => join(PHOTOS, id, f)));

function plausible(f: DetectedFace): void {
  const [le, re, nose, lm, rm] = f.landmarks;
  const { x, y, width, height } = f.box;
  for (const [px, py] of f.landmarks) {
    expect(px).toBeGreaterThan(x - 0.1 * width);
    expect(px).toBeLessThan(x + 1.1 * width);
    expect(py).toBeGreaterThan(y - 0.1 * height);
    expect(py).toBeLessThan(y + 1.1 * height);
  }
  // upright portraits: image-left eye left of the right eye, eyes above the nose tip, nose above the mouth
  expect(le[0]).toBeLessThan(re[0]);
  expect(lm[0]).toBeLessThan(rm[0]);
  expect(Math.max(le[1], re[1])).toBeLessThan(nose[1]);
  expect(nose[1]).toBeLessThan(Math.min(lm[1], rm[1]));
}

describe('detectFaces on real photos', () => {
  beforeAll(async () => {
    await loadFaceApi('ssd');
  });

  it(`finds one plausible face in (nearly) every portrait (${files.length} photos), without leaking tensors`, async () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    await detectFaces(files[0]!); // warm-up: kernels compiled, weights resident
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    const found: string[] = [];
    const missed: string[] = [];
    const rms: number[] = [];
    for (const f of files) {
      const faces = await detectFaces(f);
      if (faces.length !== 1) {
        missed.push(`${f.slice(PHOTOS.length + 1)} (${faces.length} faces)`);
        continue;
      }
      found.push(f);
      plausible(faces[0]!);
      expect(faces[0]!.score).toBeGreaterThanOrEqual(0.5);
      expect(faces[0]!.landmarks68).toHaveLength(68);
      const crop = alignCrop(await toRawImage(f), faces[0]!.landmarks);
      rms.push(crop.rms);
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(tf.memory().numTensors).toBe(before);
    const rate = found.length / files.length;
    rms.sort((a, b) => a - b);
    console.log(
      `detection: ${found.length}/${files.length} photos with exactly one face (${(100 * rate).toFixed(1)}%), ${(files.length / seconds).toFixed(2)} images/s ` +
        `(backend ${tf.getBackend()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}); template fit RMS median ${rms[rms.length >> 1]!.toFixed(2)} px, max ${rms.at(-1)!.toFixed(2)} px at 112²` +
        (missed.length ? `; missed: ${missed.join(', ')}` : ''),
    );
    expect(rate).toBeGreaterThanOrEqual(0.9);
    // a frontal portrait's five points are close to a similarity of the template (a few px at 112²)
    expect(rms[rms.length >> 1]!).toBeLessThan(4);
  }, 600_000);

  it('finds the same face in an EXIF-rotated copy, and two faces side by side', async () => {
    const astronaut = files.find((f) => f.includes('astronaut'))!;
    const [upright] = await detectFaces(astronaut);
    const buf = await sharp(astronaut).rotate(-90).jpeg({ quality: 95 }).toBuffer();
    const tagged = await sharp(buf).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const [turned] = await detectFaces(tagged);
    expect(Math.abs(turned!.box.x - upright!.box.x)).toBeLessThan(4);
    expect(Math.abs(turned!.box.y - upright!.box.y)).toBeLessThan(4);
    for (let k = 0; k < 5; k++) {
      expect(Math.hypot(turned!.landmarks[k]![0] - upright!.landmarks[k]![0], turned!.landmarks[k]![1] - upright!.landmarks[k]![1])).toBeLessThan(3);
    }
    const [a, b] = files.filter((f) => f.includes('congress-02')).slice(0, 2) as [string, string];
    const left = await sharp(a).resize({ height: 250 }).toBuffer();
    const right = await sharp(b).resize({ height: 250 }).toBuffer();
    const wa = (await sharp(left).metadata()).width!;
    const wb = (await sharp(right).metadata()).width!;
    const pair = await sharp({ create: { width: wa + wb + 40, height: 250, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: left, left: 0, top: 0 }, { input: right, left: wa + 40, top: 0 }])
      .png()
      .toBuffer();
    const two = await detectFaces(pair);
    expect(two).toHaveLength(2);
    expect(two[0]!.box.width * two[0]!.box.height).toBeGreaterThanOrEqual(two[1]!.box.width * two[1]!.box.height);
  }, 300_000);
});

describe('alignLargestFace', () => {
  it('gives the crop of the largest face, or undefined without a face', async () => {
    const hopper = files.find((f) => f.includes('grace_hopper'))!;
    const r = await alignLargestFace(hopper, { size: 112 });
    expect(r).toBeDefined();
    expect([r!.image.width, r!.image.height]).toEqual([112, 112]);
    const direct = alignCrop(await toRawImage(hopper), (await detectFaces(hopper))[0]!.landmarks);
    expect(Buffer.from(r!.image.data).equals(Buffer.from(direct.image.data))).toBe(true);
    expect(await alignLargestFace(hopper, { minFace: 5000 })).toBeUndefined();
    const flat = { data: new Uint8Array(64 * 64 * 3).fill(128), width: 64, height: 64 };
    expect(await alignLargestFace(flat)).toBeUndefined();
  }, 120_000);
});

describe('aligned crops of real photos', () => {
  it('put the photo’s landmarks where the transform says: re-detected in the crop, they are within a few px', async () => {
    const dist: number[] = [];
    for (const f of files.filter((x) => x.includes('congress-02')).slice(0, 5)) {
      const r = (await alignLargestFace(f))!;
      // the crop, upscaled 2× and centred in a grey 448² canvas so that the detector sees a whole head
      const up = resizeRgb(r.image.data, 112, 112, 224, 224, 'triangle');
      const C = 448;
      const data = new Uint8Array(C * C * 3).fill(128);
      for (let y = 0; y < 224; y++) data.set(up.subarray(y * 224 * 3, (y + 1) * 224 * 3), ((y + 112) * C + 112) * 3);
      const again = await detectFaces({ data, width: C, height: C }, { minScore: 0.3 });
      expect(again.length).toBeGreaterThanOrEqual(1);
      again[0]!.landmarks.forEach(([x, y], k) => {
        const [u, v] = applyAffine(r.transform, r.face.landmarks[k]!);
        dist.push(Math.hypot((x - 112) / 2 - u, (y - 112) / 2 - v));
      });
    }
    dist.sort((a, b) => a - b);
    console.log(`re-detection in the crops: median ${dist[dist.length >> 1]!.toFixed(2)} px, max ${dist.at(-1)!.toFixed(2)} px from the mapped landmarks (112² crop px)`);
    expect(dist[dist.length >> 1]!).toBeLessThan(3);
  }, 300_000);
});
