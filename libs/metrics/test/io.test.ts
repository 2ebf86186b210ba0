import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { collectTwoViewEmbeddings, decodeNpyMatrix, encodeNpyMatrix, parseLabelJson, readLabelFile, readNpyMatrix, writeNpyMatrix } from '../src/index.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
// What numpy wrote into the fixtures (np.arange(12).reshape(3, 4) / 7 - 0.5), rounded to float32.
const expected = Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5);
const dir = mkdtempSync(join(tmpdir(), 'facet-metrics-'));

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.npy', () => {
  it('reads numpy-written files: <f4 C order, <f8 Fortran order, format 2.0', () => {
    for (const name of ['c-f4.npy', 'fortran-f8.npy', 'v2-f4.npy']) {
      const m = readNpyMatrix(fixture(name));
      expect(m.dim).toBe(4);
      expect(Array.from(m.data)).toEqual(Array.from(expected));
    }
  });

  it('writes v1.0 files with a 64-byte aligned header that read back exactly', () => {
    const m = { data: Float32Array.from({ length: 35 }, (_, i) => Math.sin(i)), dim: 7 };
    const path = join(dir, 'x.npy');
    writeNpyMatrix(path, m);
    const bytes = readFileSync(path);
    const headerLen = bytes.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(bytes[10 + headerLen - 1]).toBe(0x0a);
    expect(bytes.subarray(10, 10 + headerLen).toString('latin1')).toMatch(/'descr': '<f4', 'fortran_order': False, 'shape': \(5, 7\)/);
    const back = readNpyMatrix(path);
    expect(back.dim).toBe(7);
    expect(Array.from(back.data)).toEqual(Array.from(m.data));
    // numpy's own header for the same array decodes to the same values as ours
    expect(decodeNpyMatrix(encodeNpyMatrix({ data: expected, dim: 4 })).data).toEqual(readNpyMatrix(fixture('c-f4.npy')).data);
  });

  it('explains what is wrong with an unusable file', () => {
    expect(() => readNpyMatrix(fixture('vector-f4.npy'))).toThrow(/vector-f4.npy: expected a 2-D array \[N, D\] of embeddings, got shape \(5\)/);
    expect(() => readNpyMatrix(fixture('int32.npy'))).toThrow(/dtype '<i4' is not supported; save float32/);
    expect(() => readNpyMatrix(join(dir, 'missing.npy'))).toThrow(/cannot read embeddings file .*missing.npy: ENOENT/);
    const truncated = join(dir, 'short.npy');
    writeFileSync(truncated, readFileSync(fixture('c-f4.npy')).subarray(0, 150));
    expect(() => readNpyMatrix(truncated)).toThrow(/truncated/);
    expect(() => decodeNpyMatrix(new Uint8Array(20), 'x.npy')).toThrow(/x.npy is not a .npy file/);
  });
});

describe('labels JSON', () => {
  it('accepts integers, strings (sorted to indices) and { labels }', () => {
    expect(Array.from(parseLabelJson([3, 1, 3]).labels)).toEqual([3, 1, 3]);
    const s = parseLabelJson({ labels: ['bob', 'alice', 'bob'] });
    expect(s.names).toEqual(['alice', 'bob']);
    expect(Array.from(s.labels)).toEqual([1, 0, 1]);
    const path = join(dir, 'labels.json');
    writeFileSync(path, '[0, 1, 1]');
    expect(Array.from(readLabelFile(path).labels)).toEqual([0, 1, 1]);
  });

  it('rejects mixed or malformed labels, naming the file', () => {
    expect(() => parseLabelJson([1, 'a'], 'l.json')).toThrow(/l.json\[1\] = "a": labels must all be non-negative integers or all be strings/);
    expect(() => parseLabelJson({ ids: [] }, 'l.json')).toThrow(/expected a JSON array/);
    const path = join(dir, 'bad.json');
    writeFileSync(path, '[1, 2');
    expect(() => readLabelFile(path)).toThrow(/bad.json is not valid JSON/);
  });
});

describe('collectTwoViewEmbeddings', () => {
  it('embeds each view of each batch and concatenates rows in order, leaving no tensors behind', async () => {
    const w = tf.tensor2d(Float32Array.from({ length: 12 * 3 }, (_, i) => Math.cos(i)), [12, 3]);
    const embed = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], -1]), w) as tf.Tensor2D;
    const images = (n: number, seed: number) => tf.tensor4d(Float32Array.from({ length: n * 12 }, (_, i) => Math.sin(i + seed)), [n, 2, 2, 3]);
    const before = tf.memory().numTensors;
    const batches = [
      { views1: images(2, 0), views2: images(2, 100), labels: [4, 5] },
      { views1: images(3, 7), views2: images(3, 107), labels: tf.tensor1d([5, 6, 4], 'int32') },
    ];
    const seen: number[] = [];
    const out = await collectTwoViewEmbeddings(batches, embed, { onBatch: (n) => seen.push(n) });
    expect(seen).toEqual([2, 5]);
    expect(Array.from(out.labels)).toEqual([4, 5, 5, 6, 4]);
    expect(out.v1.dim).toBe(3);
    // row 2 of v2 is the first image of batch 2's second view, embedded directly
    const direct = tf.tidy(() => embed(images(3, 107)).arraySync() as number[][]);
    expect(Array.from(out.v2.data.subarray(6, 9))).toEqual(direct[0]!.map((v) => expect.closeTo(v, 6)));
    expect(tf.memory().numTensors).toBe(before); // the batch tensors (made after `before`) were disposed
    w.dispose();
  });

  it('takes an async embed (a runtime outside tfjs) and gives the same rows, leaving no tensors behind', async () => {
    const w = tf.tensor2d(Float32Array.from({ length: 12 * 3 }, (_, i) => Math.cos(i)), [12, 3]);
    const sync = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], -1]), w) as tf.Tensor2D;
    // what an ONNX Runtime model does: read the pixels, compute elsewhere, hand back a fresh tensor
    const async = async (x: tf.Tensor4D) => {
      const rows = tf.tidy(() => sync(x).dataSync() as Float32Array);
      await new Promise((r) => setTimeout(r, 1));
      return tf.tensor2d(rows, [x.shape[0], 3]);
    };
    const images = (n: number, seed: number) => tf.tensor4d(Float32Array.from({ length: n * 12 }, (_, i) => Math.sin(i + seed)), [n, 2, 2, 3]);
    const batches = () => [
      { views1: images(2, 0), views2: images(2, 100), labels: [4, 5] },
      { views1: images(3, 7), views2: images(3, 107), labels: [5, 6, 4] },
    ];
    const before = tf.memory().numTensors;
    const a = await collectTwoViewEmbeddings(batches(), sync);
    const b = await collectTwoViewEmbeddings(batches(), async);
    expect(Array.from(b.v1.data)).toEqual(Array.from(a.v1.data));
    expect(Array.from(b.v2.data)).toEqual(Array.from(a.v2.data));
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });

  it('rejects an embed function that returns the wrong shape', async () => {
    const batch = { views1: tf.zeros([2, 1, 1, 1]) as tf.Tensor4D, views2: tf.zeros([2, 1, 1, 1]) as tf.Tensor4D, labels: [0, 1] };
    await expect(collectTwoViewEmbeddings([batch], (x) => tf.reshape(x, [1, 2]) as tf.Tensor2D)).rejects.toThrow(/expected \[2, D\]/);
    tf.dispose([batch.views1, batch.views2]);
  });
});
