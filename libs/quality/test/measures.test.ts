import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackbone, type Backbone } from '@facet/backbones';
import { initEngine, tf } from '@facet/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildUiCenter,
  calibrateRecognizability,
  embeddingNorms,
  embeddingRecognizability,
  imageQualities,
  pairsErrorVersusReject,
  plotErrorVersusReject,
  readQualityModel,
  saveQualityModel,
  serFiqScores,
  stochasticEmbeddings,
  unrecognizableBatch,
  unrecognizableImage,
  unrecognizableImages,
} from '../src/index.js';
import { makeRng } from '@facet/data';

const S = 32;
let iresnet: Backbone;
let mbf: Backbone;

function rand(n: number, seed: number) {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}
/** A test image: a bright disc on a textured background (fine detail for blur and down-scaling to remove). */
function face(seed: number): Uint8Array {
  const img = new Uint8Array(S * S * 3);
  const noise = rand(S * S * 3, seed + 1);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const inside = (x - 16 - (seed % 5)) ** 2 + (y - 15) ** 2 < 80;
      for (let c = 0; c < 3; c++) img[(y * S + x) * 3 + c] = inside ? 220 - 30 * c : 100 + 60 * noise[(y * S + x) * 3 + c]!;
    }
  return img;
}

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  iresnet = createBackbone('iresnet18', { width: 0.125, inputSize: S, embeddingSize: 16, blocks: [1, 1, 1, 1], seed: 2 });
  mbf = createBackbone('mobilefacenet', { width: 0.125, inputSize: S, embeddingSize: 16, blocks: [1, 1, 1, 1], seed: 2 });
});
afterAll(() => {
  iresnet.dispose();
  mbf.dispose();
});

describe('baseline measures', () => {
  it('embedding norm and ERS = min(1 − cos, 1) against float64 loops', () => {
    const emb = rand(5 * 4, 3);
    const ui = [0.5, -0.5, 0.5, 0.5];
    const norms = embeddingNorms(emb, 4);
    const ers = embeddingRecognizability(emb, ui);
    for (let i = 0; i < 5; i++) {
      const v = Array.from(emb.subarray(i * 4, i * 4 + 4));
      const n = Math.hypot(...v);
      expect(norms[i]).toBeCloseTo(n, 6);
      expect(ers[i]).toBeCloseTo(Math.min(1, 1 - v.reduce((s, x, k) => s + (x / n) * ui[k]!, 0)), 6);
    }
    expect(() => embeddingRecognizability(emb, [1, 0, 0])).toThrow(/not a whole number of 3-d rows/);
  });

  it('SER-FIQ score = 2σ(−mean pairwise distance) of the normalised samples', () => {
    const m = 5;
    const samples = rand(2 * m * 3, 8);
    const got = serFiqScores(samples, m, 3);
    for (let img = 0; img < 2; img++) {
      const rows = Array.from({ length: m }, (_, i) => {
        const v = Array.from(samples.subarray((img * m + i) * 3, (img * m + i + 1) * 3));
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      });
      const d: number[] = [];
      for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) d.push(Math.hypot(...rows[i]!.map((x, k) => x - rows[j]![k]!)));
      expect(got[img]).toBeCloseTo(2 / (1 + Math.exp(d.reduce((a, b) => a + b) / d.length)), 10);
    }
    const same = Float32Array.from({ length: 4 * 3 }, (_, i) => [1, 2, 3][i % 3]!);
    expect(serFiqScores(same, 4, 3)[0]).toBeCloseTo(1, 12);
    expect(() => serFiqScores(samples, 1, 3)).toThrow(/samplesPerImage must be an integer ≥ 2/);
  });

  it('stochastic passes: dropout 0 reproduces the inference embedding at both sites; masks are seeded', () => {
    const x = tf.tensor4d(rand(3 * S * S * 3, 4), [3, S, S, 3]);
    for (const [net, site] of [
      [iresnet, 'head'],
      [iresnet, 'embedding'],
      [mbf, 'auto'],
    ] as const) {
      const ref = tf.tidy(() => net.apply(x, { training: false }).dataSync());
      const s = stochasticEmbeddings(net, x, { samples: 2, dropout: 0, site });
      expect(s.site).toBe(site === 'auto' ? 'embedding' : site);
      for (let i = 0; i < 3; i++) for (let k = 0; k < 16; k++) expect(s.samples[(i * 2 + 1) * 16 + k]).toBeCloseTo(ref[i * 16 + k]!, 4);
    }
    const before = tf.memory().numTensors;
    const a = stochasticEmbeddings(iresnet, x, { samples: 4, dropout: 0.5, seed: 1 });
    const b = stochasticEmbeddings(iresnet, x, { samples: 4, dropout: 0.5, seed: 1 });
    const c = stochasticEmbeddings(iresnet, x, { samples: 4, dropout: 0.5, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(a.samples)).toEqual(Array.from(b.samples));
    expect(Array.from(a.samples)).not.toEqual(Array.from(c.samples));
    expect(Array.from(a.samples.subarray(0, 16))).not.toEqual(Array.from(a.samples.subarray(16, 32)));
    expect(() => stochasticEmbeddings(mbf, x, { site: 'head' })).toThrow(/needs an IResNet/);
    x.dispose();
  });
});

describe('unrecognizable images', () => {
  const roughness = (img: Uint8Array) => {
    let s = 0;
    for (let y = 0; y < S; y++) for (let x = 1; x < S; x++) s += Math.abs(img[(y * S + x) * 3]! - img[(y * S + x - 1) * 3]!);
    return s;
  };
  it('each kind destroys detail deterministically', () => {
    const src = face(1);
    for (const kind of ['tiny', 'blur', 'crop'] as const) {
      const a = unrecognizableImage(src, S, kind, makeRng(5));
      expect(a).toHaveLength(src.length);
      expect(Array.from(a)).toEqual(Array.from(unrecognizableImage(src, S, kind, makeRng(5))));
      expect(roughness(a), kind).toBeLessThan(roughness(src) * 0.5);
    }
    const noisy = unrecognizableImage(src, S, 'noise', makeRng(5));
    let diff = 0;
    for (let i = 0; i < src.length; i++) diff += Math.abs(noisy[i]! - src[i]!) / src.length;
    expect(diff).toBeGreaterThan(25);
    const set = unrecognizableImages([src, face(2)], S, { count: 6, seed: 1 });
    expect(set).toHaveLength(6);
    const batch = unrecognizableBatch(Float32Array.from(src, (p) => (p - 127.5) / 127.5), S, 3, 0);
    expect(batch).toHaveLength(3 * S * S * 3);
    expect(batch.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(() => unrecognizableImages([src], S, { kinds: ['smudge' as 'tiny'] })).toThrow(/kinds must be a non-empty list of tiny, blur, noise, crop/);
    expect(() => unrecognizableImage(src, 16, 'tiny', makeRng(1))).toThrow(/expected 16×16×3/);
  });
});

describe('quality model, image qualities and ERC on a model', () => {
  it('scores images with every measure, saves/reads quality.json, runs an ERC with plots', async () => {
    const faces = Array.from({ length: 12 }, (_, i) => face(i));
    const ui = await buildUiCenter(iresnet, unrecognizableImages(faces, S, { count: 8 }), { source: 'test' });
    expect(Math.hypot(...ui.uiCenter)).toBeCloseTo(1, 5);
    const dir = mkdtempSync(join(tmpdir(), 'facet-quality-'));
    expect(() => saveQualityModel(dir, ui)).toThrow(/not a model folder/);
    writeFileSync(join(dir, 'manifest.json'), '{}');
    expect(readQualityModel(dir)).toBeUndefined();
    const head = { embeddingSize: 16, weight: Array.from(rand(17, 3)), bias: 0.25 };
    saveQualityModel(dir, { ...ui, head });
    const q = readQualityModel(dir)!;
    expect(Array.from(q.uiCenter!)).toEqual(Array.from(ui.uiCenter));
    expect(q.head).toEqual(head);
    writeFileSync(join(dir, 'quality.json'), readFileSync(join(dir, 'quality.json'), 'utf8').replace('"embeddingSize": 16', '"embeddingSize": 15'));
    expect(() => readQualityModel(dir)).toThrow(/uiCenter must hold 15 finite numbers/);

    const before = tf.memory().numTensors;
    const res = await imageQualities(iresnet, faces, q, { serFiq: { samples: 4 }, batchSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(res.measures)).toEqual(['ri', 'ers', 'norm', 'ser-fiq']);
    expect(res.serFiqSite).toBe('head');
    const noHead = await imageQualities(iresnet, faces.slice(0, 2), undefined, { serFiq: false });
    expect(Object.keys(noHead.measures)).toEqual(['norm']);
    expect(noHead.skipped.map((s) => s.measure)).toEqual(['ser-fiq', 'ri', 'ers']);

    const pairs = {
      name: 'toy',
      imagesA: faces.slice(0, 6).flatMap((f) => [f, f]),
      imagesB: faces.slice(6).flatMap((f, i) => [faces[i]!, f]),
      issame: Array.from({ length: 12 }, (_, i) => i % 2 === 0),
    };
    const erc = await pairsErrorVersusReject(iresnet, pairs, q, { serFiq: { samples: 3 }, fmrs: [0.2], rejectFractions: [0, 0.25, 0.5], randomRepeats: 2 });
    expect(erc.erc.curves.map((c) => c.measure)).toEqual(['ri', 'ers', 'norm', 'ser-fiq', 'random']);
    expect(erc.scores[0]).toBeCloseTo(1, 5); // pair 0 is an image with itself
    // calibration: a UI centre and a head fitted to the RI targets (UI images at 0) on inference embeddings
    const cal = await calibrateRecognizability(iresnet, {
      images: faces,
      labels: faces.map((_, i) => i % 3),
      prototypes: rand(3 * 16, 5),
      uiImages: unrecognizableImages(faces, S, { count: 6 }),
      fit: { steps: 200 },
    });
    expect(cal.head!.weight).toHaveLength(17);
    expect(cal.uiCount).toBe(6);
    expect(Number.isFinite(cal.fitLoss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const files = await plotErrorVersusReject(erc.erc, join(dir, 'plots'));
    expect(files.map((f) => f.replace(dir, ''))).toEqual(['/plots/erc-fmr2e-1.svg', '/plots/erc-fmr2e-1.png']);
  });
});
