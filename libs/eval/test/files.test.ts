import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePairsIndex, readEmbeddings, readNpy, writeEmbeddings, writeNpy } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'facet-eval-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A .npy written byte by byte from the format description (NEP 1), independent of writeNpy. */
function handNpy(descr: string, shape: string, body: Buffer, fortran = 'False', major = 1): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  const pre = major === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((pre + header.length) % 64)) + '\n';
  const lenBytes = Buffer.alloc(major === 1 ? 2 : 4);
  if (major === 1) lenBytes.writeUInt16LE(header.length);
  else lenBytes.writeUInt32LE(header.length);
  return Buffer.concat([Buffer.from([0x93]), Buffer.from(`NUMPY`), Buffer.from([major, 0]), lenBytes, Buffer.from(header, 'latin1'), body]);
}

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('npy', () => {
  it('writes format 1.0 <f4 with a 64-byte aligned header and reads it back', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 3 - 1);
    const p = join(dir, 'a.npy');
    writeNpy(p, data, [3, 4]);
    const buf = readFileSync(p);
    const headerLen = buf.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    expect(buf.toString('latin1', 10, 10 + headerLen)).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 4\), \}\s*\n$/);
    expect(buf.length).toBe(10 + headerLen + 48);
    expect(buf.readFloatLE(10 + headerLen + 4 * 5)).toBe(data[5]);
    const back = readNpy(p);
    expect(back.shape).toEqual([3, 4]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    writeNpy(join(dir, 'v.npy'), data, [12]);
    expect(readNpy(join(dir, 'v.npy')).shape).toEqual([12]);
  });

  it('reads float64 and big-endian files written by hand, and format 2.0', () => {
    const le64 = Buffer.alloc(16);
    le64.writeDoubleLE(1.5, 0);
    le64.writeDoubleLE(-2.25, 8);
    writeFileSync(join(dir, 'f8.npy'), handNpy('<f8', '(2, 1)', le64));
    expect(readNpy(join(dir, 'f8.npy'))).toEqual({ data: Float32Array.from([1.5, -2.25]), shape: [2, 1] });
    const be32 = Buffer.alloc(8);
    be32.writeFloatBE(0.5, 0);
    be32.writeFloatBE(3, 4);
    writeFileSync(join(dir, 'be.npy'), handNpy('>f4', '(2,)', be32, 'False', 2));
    expect(Array.from(readNpy(join(dir, 'be.npy')).data)).toEqual([0.5, 3]);
  });

  it('explains unsupported files', () => {
    writeFileSync(join(dir, 'i8.npy'), handNpy('<i8', '(1,)', Buffer.alloc(8)));
    expect(() => readNpy(join(dir, 'i8.npy'))).toThrow(/dtype '<i8'.*astype\(np.float32\)/);
    writeFileSync(join(dir, 'fo.npy'), handNpy('<f4', '(1, 1)', Buffer.alloc(4), 'True'));
    expect(() => readNpy(join(dir, 'fo.npy'))).toThrow(/Fortran order.*ascontiguousarray/);
    writeFileSync(join(dir, 'short.npy'), handNpy('<f4', '(2, 2)', Buffer.alloc(12)));
    expect(() => readNpy(join(dir, 'short.npy'))).toThrow(/needs 16 data bytes, the file has 12/);
    writeFileSync(join(dir, 'x.npy'), 'hello world');
    expect(() => readNpy(join(dir, 'x.npy'))).toThrow(/not a NumPy .npy file/);
    expect(() => readNpy(join(dir, 'missing.npy'))).toThrow(/cannot read .*missing.npy/);
    expect(() => writeNpy(join(dir, 'bad.npy'), new Float32Array(5), [2, 2])).toThrow(/holds 4 values but data has 5/);
  });

  it.skipIf(!hasNumpy())('round-trips through numpy (np.load / np.save)', () => {
    const data = Float32Array.from({ length: 6 }, (_, i) => Math.fround(Math.sqrt(i + 0.5)));
    writeNpy(join(dir, 'np.npy'), data, [2, 3]);
    const out = execFileSync('python3', ['-c', `import numpy as np; a = np.load('${join(dir, 'np.npy')}'); print(a.dtype, a.shape, repr(float(a[1, 2]))); np.save('${join(dir, 'np64.npy')}', a.astype(np.float64) * 2)`], { encoding: 'utf8' });
    expect(out.trim()).toBe(`float32 (2, 3) ${String(data[5])}`);
    expect(Array.from(readNpy(join(dir, 'np64.npy')).data)).toEqual(Array.from(data, (v) => Math.fround(2 * v)));
  });
});

describe('embeddings files and pairs index', () => {
  it('writes .npy + .json and reads them back', () => {
    const emb = Float32Array.from({ length: 8 }, (_, i) => i);
    const files = writeEmbeddings(join(dir, 'emb.npy'), emb, 4, { paths: ['a/1.jpg', 'b/2.jpg'], labels: [0, 1], classes: ['a', 'b'] });
    expect(files.json).toBe(join(dir, 'emb.json'));
    const back = readEmbeddings(files.npy);
    expect(back).toMatchObject({ count: 2, dim: 4, meta: { labels: [0, 1], classes: ['a', 'b'] } });
    expect(Array.from(back.embeddings)).toEqual(Array.from(emb));
    expect(() => writeEmbeddings(join(dir, 'e.npy'), emb, 4, { labels: [1] })).toThrow(/1 labels for 2 embeddings/);
    writeNpy(join(dir, 'flat.npy'), emb, [8]);
    expect(() => readEmbeddings(join(dir, 'flat.npy'))).toThrow(/must be 2-D/);
  });

  it('parses the three pairs-index forms and names bad entries', () => {
    expect(parsePairsIndex([[0, 3, true], [1, 2, 0]], 4)).toEqual({ a: Int32Array.from([0, 1]), b: Int32Array.from([3, 2]), issame: [true, false] });
    expect(parsePairsIndex({ pairs: [[2, 1, 1]] }, 4).issame).toEqual([true]);
    const bin = parsePairsIndex({ issame: [true, false] }, 4);
    expect(Array.from(bin.a)).toEqual([0, 2]);
    expect(Array.from(bin.b)).toEqual([1, 3]);
    expect(() => parsePairsIndex([[0, 9, true]], 4, 'p.json')).toThrow(/p.json: pair 0 refers to row 9, but the embeddings have 4 rows/);
    expect(() => parsePairsIndex([[0, 1, 'yes']], 4)).toThrow(/pair 0 is \[0,1,"yes"\]/);
    expect(() => parsePairsIndex({ issame: [true, true, true] }, 4)).toThrow(/need 6 embedding rows/);
    expect(() => parsePairsIndex({ foo: 1 }, 4)).toThrow(/unrecognised JSON/);
  });
});

describe('parsePairsIndex with fold ids', () => {
  it('keeps a fourth element per pair as the fold id, and refuses a mix', async () => {
    const { parsePairsIndex } = await import('../src/index.js');
    const idx = parsePairsIndex([[0, 1, true, 2], [2, 3, 0, 5]], 4);
    expect(idx.foldIds).toEqual([2, 5]);
    expect(parsePairsIndex([[0, 1, true]], 4).foldIds).toBeUndefined();
    expect(() => parsePairsIndex([[0, 1, true], [2, 3, false, 1]], 4, 'p.json')).toThrow(/p.json: pair 1 has a fold id but pair 0 has none/);
    expect(() => parsePairsIndex([[0, 1, true, 1.5]], 4, 'p.json')).toThrow(/p.json: pair 0 is/);
  });
});
