import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@facet/plot';

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Read a NumPy .npy file (format 1.0/2.0/3.0, C order) of float32 or float64 (converted to float32), either
 * byte order: what `np.save(path, emb)` writes from Python, so embeddings made elsewhere can be evaluated.
 */
export function readNpy(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new Error(`${path} is not a NumPy .npy file (bad magic); save it with np.save(path, array).`);
  }
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : major === 2 || major === 3 ? buf.readUInt32LE(8) : -1;
  if (headerLen < 0) throw new Error(`${path}: .npy format version ${major}.${buf[7]} is not supported (1.0, 2.0, 3.0 are).`);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${path}: malformed .npy header: ${header.trim()}`);
  if (fortran === 'True') {
    throw new Error(`${path} is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(array)).`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const kind = /^([<>|=])f([48])$/.exec(descr);
  if (!kind) {
    throw new Error(`${path} holds dtype '${descr}'; Facet reads float32/float64 embeddings: save with np.save(path, array.astype(np.float32)).`);
  }
  const bytes = Number(kind[2]);
  const little = kind[1] !== '>';
  const offset = start + headerLen;
  if (buf.length - offset !== count * bytes) {
    throw new Error(`${path} is truncated or padded: shape (${shape.join(', ')}) needs ${count * bytes} data bytes, the file has ${buf.length - offset}.`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, count * bytes);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = bytes === 4 ? view.getFloat32(4 * i, little) : view.getFloat64(8 * i, little);
  return { data, shape };
}

/**
 * Write a float32 array as NumPy .npy format 1.0 ('<f4', C order), readable by `np.load`. The header is padded
 * with spaces to a 64-byte boundary as NumPy writes it. Written atomically.
 */
export function writeNpy(path: string, data: Float32Array, shape: number[]): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`writeNpy ${path}: shape (${shape}) must be non-negative integers.`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`writeNpy ${path}: shape (${shape}) holds ${count} values but data has ${data.length}.`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error(`writeNpy ${path}: shape too long for a format 1.0 header.`);
  const out = Buffer.alloc(10 + header.length + 4 * count);
  MAGIC.forEach((b, i) => (out[i] = b));
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const view = new DataView(out.buffer, out.byteOffset + 10 + header.length, 4 * count);
  for (let i = 0; i < count; i++) view.setFloat32(4 * i, data[i]!, true);
  writeFileAtomic(path, out);
}
