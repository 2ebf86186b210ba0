import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '@facet/engine';
import { writeCheckpoint } from '@facet/train';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classCenterShape, contactSheet, decodePng, encodePng, loadClassCenters, tensorToRgbImages } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'facet-inversion-'));
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PNG output', () => {
  it('maps [−1, 1] to 0..255 (x·127.5 + 127.5, rounded, clamped) and round-trips through pngjs', () => {
    const x = tf.tensor4d([-1, 0, 1, -2, 0.5, 2 / 127.5 - 1, 0.2, -0.2, 0.9999, 0, 0, 0], [1, 2, 2, 3]);
    const [img] = tensorToRgbImages(x);
    expect(Array.from(img!.data)).toEqual([0, 128, 255, 0, 191, 2, 153, 102, 255, 128, 128, 128]);
    const png = encodePng(img!, 3);
    const raw = PNG.sync.read(Buffer.from(png));
    expect([raw.width, raw.height]).toEqual([6, 6]);
    // nearest-neighbour upscale: pixel (4, 5) comes from source (1, 1)
    expect(Array.from(raw.data.subarray((5 * 6 + 4) * 4, (5 * 6 + 4) * 4 + 3))).toEqual([128, 128, 128]);
    const back = decodePng(encodePng(img!));
    expect(Array.from(back.data)).toEqual(Array.from(img!.data));
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'face.png')).toThrow(/face.png: not a readable PNG/);
    x.dispose();
  });

  it('contact sheet: row i, column j holds image i of column j, with gaps', () => {
    const a = tf.fill([2, 3, 3, 3], -1) as tf.Tensor4D; // black
    const b = tf.fill([2, 3, 3, 3], 1) as tf.Tensor4D; // white
    const sheet = contactSheet([a, b], { gap: 1, background: 100 });
    expect([sheet.width, sheet.height]).toEqual([2 * 3 + 3, 2 * 3 + 3]);
    const px = (x: number, y: number) => sheet.data[(y * sheet.width + x) * 3];
    expect(px(0, 0)).toBe(100);
    expect(px(1, 1)).toBe(0); // row 0, column 0
    expect(px(5, 1)).toBe(255); // row 0, column 1
    expect(px(3, 5)).toBe(0); // row 1, column 0
    expect(px(4, 5)).toBe(100); // gap between columns
    expect(() => contactSheet([a, tf.zeros([1, 3, 3, 3]) as tf.Tensor4D])).toThrow(/every column must be \[2, 3, 3, 3\]/);
    tf.dispose([a, b]);
  });
});

describe('loadClassCenters', () => {
  it('reads the Partial FC centres and the margin from a facet train checkpoint', () => {
    const run = join(dir, 'run');
    const C = 3;
    const K = 2;
    const D = 4;
    const weights = Float32Array.from({ length: C * K * D }, (_, i) => i / 10);
    writeCheckpoint(run, 40, {
      meta: {
        config: { head: 'cosface', scale: 32, marginList: null },
        objective: { kind: 'partial-fc', meta: { numClasses: C, embeddingSize: D, subCenters: K, storage: 'float32', optimizer: 'sgd', step: 40 } },
      },
      arrays: { 'backbone/x': new Float32Array(2), 'objective/weights': weights, 'objective/momentum': new Float32Array(C * K * D) },
    });
    const c = loadClassCenters(run);
    expect(c.numClasses).toBe(C);
    expect(c.subCenters).toBe(K);
    expect(c.step).toBe(40);
    expect(Array.from(c.centers)).toEqual(Array.from(weights));
    expect(c.margin).toEqual({ s: 32, m1: 1, m2: 0, m3: 0.4 });
    expect(classCenterShape(c)).toEqual([C, K, D]);
    // a checkpoint directory works too
    expect(loadClassCenters(c.source).numClasses).toBe(C);
  });

  it('explains what is wrong: no directory, model dir only, softmax run', () => {
    expect(() => loadClassCenters(join(dir, 'nope'))).toThrow(/is not a directory; pass the output directory of facet train/);
    mkdirSync(join(dir, 'model-only'));
    writeFileSync(join(dir, 'model-only', 'manifest.json'), '{}');
    expect(() => loadClassCenters(join(dir, 'model-only'))).toThrow(/has no checkpoints\//);
    writeCheckpoint(join(dir, 'softmax'), 1, { meta: { objective: { kind: 'softmax', meta: {} } }, arrays: { 'backbone/x': new Float32Array(1) } });
    expect(() => loadClassCenters(join(dir, 'softmax'))).toThrow(/no class centres \(objective softmax\).*--embedding or --image/);
  });
});
