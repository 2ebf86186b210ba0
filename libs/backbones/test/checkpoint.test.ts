// Checkpoints: save → load gives bit-identical embeddings and weights (incl. BN running stats); mismatches and
// damaged files fail with a message naming the checkpoint and both architectures.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import {
  createBackbone,
  deserializeWeights,
  FACET_VERSION,
  loadBackbone,
  loadBackboneWeights,
  readBackboneManifest,
  saveBackbone,
  serializeWeights,
  type Backbone,
} from '../src/index.js';
import { randomArray, randomImages } from './helpers.js';

let root: string;
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  root = mkdtempSync(join(tmpdir(), 'facet-backbones-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tiny = { width: 0.125, inputSize: 32, embeddingSize: 16 };

/** A backbone whose weights and running stats are no longer at their initial values. */
function trained(name: string): Backbone {
  const net = createBackbone(name, { ...tiny, seed: 5 });
  const x = randomImages(4, 32, 8);
  const opt = tf.train.sgd(0.05);
  for (let i = 0; i < 2; i++) tf.dispose(opt.minimize(() => tf.mean(tf.square(net.apply(x, { training: true }))) as tf.Scalar, true, net.trainableVariables())!);
  tf.dispose(x);
  opt.dispose();
  return net;
}

const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer.slice(0));

describe('saveBackbone / loadBackbone', () => {
  for (const name of ['iresnet18', 'mobilefacenet', 'vit_t']) {
    it(`${name}: round trip is bit-identical (embeddings, weights, BN running stats)`, async () => {
      const net = trained(name);
      const dir = join(root, `${name}-ckpt`);
      await saveBackbone(net, dir, { epoch: 3 });
      const loaded = await loadBackbone(dir, { name });
      expect(loaded.name).toBe(name);
      expect(loaded.options).toEqual(net.options);
      const a = net.getWeights();
      const b = loaded.getWeights();
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const k of Object.keys(a)) expect(bytes(b[k]!).equals(bytes(a[k]!)), k).toBe(true);
      const x = randomImages(3, 32, 9);
      const y1 = net.apply(x);
      const y2 = loaded.apply(x);
      expect(bytes(y2).equals(bytes(y1))).toBe(true);
      const m = await readBackboneManifest(dir);
      expect(m).toMatchObject({
        format: 'facet-backbone',
        architecture: name,
        embeddingSize: 16,
        inputSize: 32,
        normalization: { mean: 127.5, std: 127.5, layout: 'NHWC', channels: 'RGB' },
        facetVersion: FACET_VERSION,
        extra: { epoch: 3 },
      });
      for (const l of net.batchNorms()) expect(Object.keys(m.tensors)).toEqual(expect.arrayContaining([`${l.name}.running_mean`, `${l.name}.running_var`]));
      expect(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([]);
      tf.dispose([x, y1, y2]);
      net.dispose();
      loaded.dispose();
    });
  }

  it('overwrites an existing checkpoint but refuses a non-empty directory that is not one', async () => {
    const net = trained('iresnet18');
    const dir = join(root, 'overwrite');
    await saveBackbone(net, dir);
    const first = readFileSync(join(dir, 'weights.bin'));
    net.setWeights(Object.fromEntries(Object.entries(net.getWeights()).map(([k, t]) => [k, Float32Array.from(t.dataSync(), (v) => v + 1)])));
    await saveBackbone(net, dir);
    expect(readFileSync(join(dir, 'weights.bin')).equals(first)).toBe(false);
    const other = join(root, 'user-data');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    await expect(saveBackbone(net, other)).rejects.toThrow(/non-empty directory that is not a Facet checkpoint/);
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('keep me');
    net.dispose();
  });

  it('loading into a different architecture fails naming both', async () => {
    const net = trained('iresnet18');
    const dir = join(root, 'r18');
    await saveBackbone(net, dir);
    await expect(loadBackbone(dir, { name: 'mobilefacenet' })).rejects.toThrow(/holds a 'iresnet18' backbone but 'mobilefacenet' was expected/);
    const mbf = createBackbone('mobilefacenet', tiny);
    await expect(loadBackboneWeights(mbf, dir)).rejects.toThrow(/holds a 'iresnet18' backbone and cannot be loaded into a 'mobilefacenet' backbone/);
    const wider = createBackbone('iresnet18', { ...tiny, width: 0.25 });
    await expect(loadBackboneWeights(wider, dir)).rejects.toThrow(/holds a 'iresnet18' with width=0.125 but the backbone has width=0.25/);
    const same = createBackbone('iresnet18', { ...tiny, seed: 99 });
    await loadBackboneWeights(same, dir);
    const x = randomImages(2, 32, 3);
    expect(bytes(same.apply(x)).equals(bytes(net.apply(x)))).toBe(true);
    [net, mbf, wider, same].forEach((n) => n.dispose());
    x.dispose();
  });

  it('setWeights rejects foreign weights and wrong shapes without assigning anything', () => {
    const r18 = createBackbone('iresnet18', tiny);
    const mbf = createBackbone('mobilefacenet', tiny);
    const before = bytes(r18.getWeights()['conv1.weight']!);
    expect(() => r18.setWeights(mbf.getWeights())).toThrow(/do not belong to this architecture\/options; missing \d+: conv1.weight/);
    const w = { ...r18.getWeights(), 'conv1.weight': new Float32Array(5) };
    expect(() => r18.setWeights(w)).toThrow(/conv1.weight has 5 values, expected \[3,3,3,8\]/);
    expect(bytes(r18.getWeights()['conv1.weight']!).equals(before)).toBe(true);
    r18.dispose();
    mbf.dispose();
  });

  it('a missing, truncated or damaged checkpoint gives a clear error', async () => {
    await expect(loadBackbone(join(root, 'nothing-here'))).rejects.toThrow(/is not a backbone checkpoint: manifest.json not found/);
    const net = createBackbone('mobilefacenet', tiny);
    const dir = join(root, 'damaged');
    await saveBackbone(net, dir);
    truncateSync(join(dir, 'weights.bin'), 100);
    await expect(loadBackbone(dir)).rejects.toThrow(/weights.bin has 100 bytes but its manifest says \d+: the checkpoint is truncated/);
    writeFileSync(join(dir, 'manifest.json'), '{"format": "facet-backbone", ');
    await expect(loadBackbone(dir)).rejects.toThrow(/manifest.json is not valid JSON/);
    net.dispose();
  });

  it('serializeWeights / deserializeWeights: little-endian float32 at the indexed offsets', () => {
    const a = tf.tensor2d(randomArray(6, 1), [2, 3]);
    const b = new Float32Array([1.5, -2, 3e-8]);
    const { index, data } = serializeWeights({ a, b });
    expect(index).toEqual({ a: { dtype: 'float32', shape: [2, 3], offset: 0 }, b: { dtype: 'float32', shape: [3], offset: 24 } });
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    expect(view.getFloat32(24, true)).toBe(1.5);
    expect(view.getFloat32(28, true)).toBe(-2);
    const back = deserializeWeights(index, data);
    expect(Array.from(back.a!)).toEqual(Array.from(a.dataSync()));
    expect(Array.from(back.b!)).toEqual(Array.from(b));
    expect(() => deserializeWeights(index, data.subarray(0, 30), 'x.bin')).toThrow(/x.bin: tensor b \[3\] at byte 24 runs past the end/);
    a.dispose();
  });
});
