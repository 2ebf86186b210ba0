// Raw weight serialisation: one little-endian float32 blob plus an index (name → dtype, shape, byte offset).
// The training lib embeds the same pair in its own checkpoints.
import { tf } from '@facet/engine';

export interface TensorIndexEntry {
  dtype: 'float32';
  shape: number[];
  /** Byte offset in the blob. */
  offset: number;
}

export type TensorIndex = Record<string, TensorIndexEntry>;

export interface SerializedWeights {
  index: TensorIndex;
  /** Little-endian float32 values, tensors back to back in index order. */
  data: Uint8Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function toLittleEndian(bytes: Uint8Array): void {
  if (LITTLE_ENDIAN) return;
  for (let i = 0; i < bytes.length; i += 4) {
    const a = bytes[i]!;
    const b = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

/** Serialise tensors (e.g. `backbone.getWeights()`) in the object's key order. Reads each tensor synchronously. */
export function serializeWeights(weights: Record<string, tf.Tensor | Float32Array>): SerializedWeights {
  const index: TensorIndex = {};
  let total = 0;
  for (const [name, t] of Object.entries(weights)) {
    if (t instanceof tf.Tensor && t.dtype !== 'float32') throw new Error(`serializeWeights: ${name} is ${t.dtype}; only float32 is stored`);
    const shape = t instanceof tf.Tensor ? [...t.shape] : [t.length];
    index[name] = { dtype: 'float32', shape, offset: total };
    total += 4 * shape.reduce((a, b) => a * b, 1);
  }
  const data = new Uint8Array(total);
  for (const [name, t] of Object.entries(weights)) {
    const values = t instanceof tf.Tensor ? (t.dataSync() as Float32Array) : t;
    data.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), index[name]!.offset);
  }
  toLittleEndian(data);
  return { index, data };
}

/** Inverse of serializeWeights; validates every entry against the blob, naming `source` in errors. */
export function deserializeWeights(index: TensorIndex, data: Uint8Array, source = 'weights'): Record<string, Float32Array> {
  if (index === null || typeof index !== 'object') throw new Error(`${source}: the tensor index is not an object`);
  const out: Record<string, Float32Array> = {};
  let expectedEnd = 0;
  for (const [name, e] of Object.entries(index)) {
    if (!e || e.dtype !== 'float32' || !Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`${source}: tensor ${name} has an invalid index entry ${JSON.stringify(e)} (float32 and an integer shape expected)`);
    }
    const bytes = 4 * e.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset % 4 !== 0 || e.offset + bytes > data.byteLength) {
      throw new Error(
        `${source}: tensor ${name} [${e.shape.join(',')}] at byte ${e.offset} runs past the end of the data (${data.byteLength} bytes): the file is truncated or does not match its manifest`,
      );
    }
    const copy = new Uint8Array(bytes);
    copy.set(data.subarray(e.offset, e.offset + bytes));
    toLittleEndian(copy);
    out[name] = new Float32Array(copy.buffer);
    expectedEnd = Math.max(expectedEnd, e.offset + bytes);
  }
  if (expectedEnd !== data.byteLength) {
    throw new Error(`${source}: ${data.byteLength} bytes of data but the index describes ${expectedEnd}: the file does not match its manifest`);
  }
  return out;
}
