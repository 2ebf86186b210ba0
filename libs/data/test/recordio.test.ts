import { existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertFolderToRec } from '../src/convert.js';
import { ImageFolderDataset } from '../src/folder-dataset.js';
import { openDataset } from '../src/open.js';
import { RecordIODataset } from '../src/rec-dataset.js';
import {
  buildRecordIOIndex,
  frameRecord,
  packIRRecord,
  readRecordIO,
  unframeRecord,
  unpackIRRecord,
  writeRecordIO,
} from '../src/recordio.js';
import { encodeWithSharp, makeFolderFixture, noise, tmpDir } from './fixtures.js';

const S = 16;
let root: string;
let cleanup: () => void;
beforeAll(() => ({ dir: root, cleanup } = tmpDir('rec')));
afterAll(() => cleanup());

/** Independent little-endian RecordIO record writer for fixtures (single part, no magic inside). */
function handFrame(payload: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0xced7230a, 0);
  head.writeUInt32LE(payload.length, 4);
  const pad = Buffer.alloc((4 - (payload.length % 4)) % 4);
  return Buffer.concat([head, Buffer.from(payload), pad]);
}
function handIR(flag: number, label: number, id: number, extra: number[] = []): Buffer {
  const h = Buffer.alloc(24 + extra.length * 4);
  h.writeUInt32LE(flag, 0);
  h.writeFloatLE(label, 4);
  h.writeBigUInt64LE(BigInt(id), 8);
  h.writeBigUInt64LE(0n, 16);
  extra.forEach((v, i) => h.writeFloatLE(v, 24 + i * 4));
  return h;
}

describe('RecordIO framing and IRHeader', () => {
  it('frames a record as magic, cflag<<29|len, payload, zero padding (byte layout)', () => {
    const f = Buffer.from(frameRecord(Uint8Array.from([1, 2, 3, 4, 5])));
    expect(f.length).toBe(16);
    expect(f.readUInt32LE(0)).toBe(0xced7230a);
    expect(f.readUInt32LE(4)).toBe(5);
    expect(Array.from(f.subarray(8))).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    expect(Buffer.from(frameRecord(Uint8Array.from([1, 2, 3, 4, 5]))).equals(handFrame(Uint8Array.from([1, 2, 3, 4, 5])))).toBe(true);
  });

  it('splits payloads containing the aligned magic word into cflag 1/2/3 parts and restores them', () => {
    const magic = [0x0a, 0x23, 0xd7, 0xce];
    const payload = Uint8Array.from([9, 9, 9, 9, ...magic, 7, 7, 7, 7, ...magic, 1, 2, 3]);
    const f = Buffer.from(frameRecord(payload));
    // three parts: [9 9 9 9] cflag 1, [7 7 7 7] cflag 2, [1 2 3] cflag 3
    expect(f.readUInt32LE(4)).toBe((1 << 29) | 4);
    expect(f.readUInt32LE(16)).toBe((2 << 29) | 4);
    expect(f.readUInt32LE(28)).toBe(((3 << 29) | 3) >>> 0);
    const back = unframeRecord(f, 'test');
    expect(Array.from(back.data)).toEqual(Array.from(payload));
    expect(back.consumed).toBe(f.length);
    // an unaligned magic is left alone
    const odd = Uint8Array.from([5, ...magic, 6, 6, 6]);
    expect(Buffer.from(frameRecord(odd)).readUInt32LE(4)).toBe(odd.length);
    expect(() => unframeRecord(Buffer.from('not a record!'), 'junk.rec')).toThrow(/junk\.rec: bad RecordIO magic/);
    expect(() => unframeRecord(f.subarray(0, 20), 'cut.rec')).toThrow(/cut\.rec: the record runs past the end/);
  });

  it('packs and unpacks IRHeader (IfQQ) with scalar and array labels like mx.recordio.pack', () => {
    const payload = Uint8Array.from([0xff, 0xd8, 0xff]);
    const a = packIRRecord({ label: 42, id: 7 }, payload);
    expect(Buffer.from(a).equals(Buffer.concat([handIR(0, 42, 7), Buffer.from(payload)]))).toBe(true);
    const b = packIRRecord({ label: [3, 10], id: 0 });
    expect(Buffer.from(b).equals(handIR(2, 0, 0, [3, 10]))).toBe(true);
    const u = unpackIRRecord(b);
    expect(u.header.flag).toBe(2);
    expect(Array.from(u.header.labels)).toEqual([3, 10]);
    expect(unpackIRRecord(a).header.labels[0]).toBe(42);
    expect(Array.from(unpackIRRecord(a).payload)).toEqual([0xff, 0xd8, 0xff]);
  });
});

describe('insightface .rec datasets', () => {
  it('reads a hand-built insightface rec (header record, images, identity records)', async () => {
    const recPath = join(root, 'hand.rec');
    const imgs = [noise(S, S, 1), noise(S, S, 2), noise(S, S, 3)];
    const pngs = await Promise.all(imgs.map((p) => encodeWithSharp(p, S, S, 'png')));
    // images keys 1..3 (labels 0,0,1), identity records keys 4,5
    const records = [
      handIR(2, 0, 0, [4, 6]),
      Buffer.concat([handIR(0, 0, 1), pngs[0]!]),
      Buffer.concat([handIR(0, 0, 2), pngs[1]!]),
      Buffer.concat([handIR(0, 1, 3), pngs[2]!]),
      handIR(2, 0, 4, [1, 3]),
      handIR(2, 0, 5, [3, 4]),
    ];
    let off = 0;
    const idx: string[] = [];
    const frames = records.map((r, k) => {
      const f = handFrame(r);
      idx.push(`${k}\t${off}`);
      off += f.length;
      return f;
    });
    writeFileSync(recPath, Buffer.concat(frames));
    writeFileSync(join(root, 'hand.idx'), idx.join('\n') + '\n');
    for (const recLabels of ['auto', 'header'] as const) {
      const ds = await openDataset(recPath, { imageSize: S, recLabels });
      expect(ds).toBeInstanceOf(RecordIODataset);
      expect(ds.size).toBe(3);
      expect(ds.numClasses).toBe(2);
      expect(Array.from(ds.labels)).toEqual([0, 0, 1]);
      expect(ds.classNames).toEqual(['id_00000', 'id_00001']);
      expect(ds.describe(2)).toBe(`${recPath}#3`);
      for (let i = 0; i < 3; i++) expect(Buffer.from(await ds.read(i)).equals(Buffer.from(imgs[i]!))).toBe(true);
    }
    // a folder holding train.rec opens it, as arcface_torch's get_dataloader does
    const dir = join(root, 'shard');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(dir);
    copyFileSync(recPath, join(dir, 'train.rec'));
    copyFileSync(join(root, 'hand.idx'), join(dir, 'train.idx'));
    expect((await openDataset(dir, { imageSize: S })).size).toBe(3);
  });

  it('reads a plain im2rec file (no header record): every key is an image, labels from headers', async () => {
    const recPath = join(root, 'plain.rec');
    const pngs = await Promise.all([5, 6, 7].map((s) => encodeWithSharp(noise(S, S, s), S, S, 'png')));
    await writeRecordIO(recPath, pngs.map((p, k) => ({ key: k, data: packIRRecord({ label: [2, 0, 1][k]!, id: k }, p) })));
    const ds = await openDataset(recPath, { imageSize: S });
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
    expect(ds.numClasses).toBe(3);
  });

  it('round trip: folder → convert → .rec reads back the same labels, names and pixels', async () => {
    const src = join(root, 'faces');
    await makeFolderFixture(src, S);
    const out = join(root, 'faces.rec');
    const rep = await convertFolderToRec(src, out, { imageSize: S, onWarning: () => undefined });
    expect(rep).toMatchObject({ images: 8, identities: 3, copied: 6, reencoded: 2 });
    expect(existsSync(join(root, 'faces.idx'))).toBe(true);
    const folder = (await openDataset(src, { imageSize: S, onWarning: () => undefined })) as ImageFolderDataset;
    const rec = await openDataset(out, { imageSize: S });
    expect(rec.size).toBe(folder.size);
    expect(Array.from(rec.labels)).toEqual(Array.from(folder.labels));
    expect(rec.classNames).toEqual(['alice', 'bob', 'carol']);
    for (let i = 0; i < folder.size; i++) {
      const a = await folder.read(i);
      const b = await rec.read(i);
      const lossy = !/\.(png|jpg)$/.test(folder.files[i]!); // BMP/PGM were re-encoded as JPEG q95
      let maxDiff = 0;
      for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
      if (lossy) expect(maxDiff).toBeLessThan(40);
      else expect(maxDiff).toBe(0);
    }
    // header record and identity records follow the insightface layout
    const file = await readRecordIO(out);
    expect(Array.from((await file.readHeader(0)).labels)).toEqual([9, 12]);
    expect(Array.from((await file.readHeader(9)).labels)).toEqual([1, 4]);
    expect(Array.from((await file.readHeader(11)).labels)).toEqual([7, 9]);
    file.close();
    // a rebuilt index equals the written one
    const idxText = readFileSync(join(root, 'faces.idx'), 'utf8');
    rmSync(join(root, 'faces.idx'));
    await expect(openDataset(out)).rejects.toThrow(/faces\.idx: missing; .*faces\.rec needs its index.*facet data reindex/);
    expect(await buildRecordIOIndex(out)).toBe(12);
    expect(readFileSync(join(root, 'faces.idx'), 'utf8')).toBe(idxText);
  });

  it('truncated .rec and broken .idx give one clear error naming the file', async () => {
    const recPath = join(root, 'cut.rec');
    const pngs = await Promise.all([1, 2, 3, 4].map((s) => encodeWithSharp(noise(S, S, s), S, S, 'png')));
    await writeRecordIO(recPath, pngs.map((p, k) => ({ key: k, data: packIRRecord({ label: k, id: k }, p) })));
    const size = readFileSync(recPath).length;
    truncateSync(recPath, size - 50);
    const ds = await openDataset(recPath, { imageSize: S, recLabels: 'header' });
    await expect(ds.read(3)).rejects.toThrow(/cut\.rec record 3: the record runs past the end of the file \(truncated \.rec\?\)/);
    truncateSync(recPath, 100);
    await expect(openDataset(recPath)).rejects.toThrow(/cut\.rec: truncated: .*cut\.idx places record 3 at byte \d+ but the file has 100 bytes/);
    writeFileSync(join(root, 'cut.idx'), '0\t0\nbroken line\n');
    await expect(openDataset(recPath)).rejects.toThrow(/cut\.idx:2: expected "key<TAB>offset"/);
    await expect(openDataset(join(root, 'absent.rec'))).rejects.toThrow(/absent\.rec: no such file/);
  });
});
