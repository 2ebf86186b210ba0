import { readFileSync, writeFileSync } from 'node:fs';
import type { EmbeddingMatrix } from '../embedding-matrix.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Decode a 2-D little-endian float .npy (format v1.0–3.0, '<f4' or '<f8', C or Fortran order) into a
 * float32 row-major matrix. `name` (the file) is named in every error.
 */
export function decodeNpyMatrix(bytes: Uint8Array, name = 'npy'): EmbeddingMatrix {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${name} is not a .npy file (missing the \\x93NUMPY magic).`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    offset = 12;
  } else {
    throw new Error(`${name}: unsupported .npy format version ${major}.${bytes[7]}; save with numpy.save (format 1.0).`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${name}: malformed .npy header: ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.length !== 2) throw new Error(`${name}: expected a 2-D array [N, D] of embeddings, got shape (${shape.join(', ')}).`);
  const [n, d] = shape as [number, number];
  if (d < 1) throw new Error(`${name}: embedding dimension is 0.`);
  const size = descr === '<f4' || descr === '=f4' ? 4 : descr === '<f8' || descr === '=f8' ? 8 : 0;
  if (!size) throw new Error(`${name}: dtype '${descr}' is not supported; save float32 little-endian ('<f4'), e.g. x.astype('<f4').`);
  const start = offset + headerLen;
  if (bytes.length - start < n * d * size) {
    throw new Error(`${name}: truncated: the header says ${n}×${d} ${descr} (${n * d * size} bytes) but ${bytes.length - start} bytes follow.`);
  }
  const data = new Float32Array(n * d);
  const read = (k: number) => (size === 4 ? view.getFloat32(start + 4 * k, true) : view.getFloat64(start + 8 * k, true));
  if (fortran === 'True') {
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = read(j * n + i);
  } else {
    for (let k = 0; k < n * d; k++) data[k] = read(k);
  }
  return { data, dim: d };
}

/** Encode a float32 matrix as a .npy v1.0 file ('<f4', C order), header padded to a multiple of 64 bytes. */
export function encodeNpyMatrix(m: EmbeddingMatrix): Uint8Array {
  const n = m.data.length / m.dim;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${m.dim}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + m.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  for (let k = 0; k < m.data.length; k++) view.setFloat32(start + 4 * k, m.data[k]!, true);
  return out;
}

/** Read an [N, D] embeddings .npy file. */
export function readNpyMatrix(path: string): EmbeddingMatrix {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read embeddings file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  return decodeNpyMatrix(bytes, path);
}

export function writeNpyMatrix(path: string, m: EmbeddingMatrix): void {
  writeFileSync(path, encodeNpyMatrix(m));
}
