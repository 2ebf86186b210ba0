// The one tensor representation every format here reads into and writes from: a dtype (safetensors' names), a
// shape and contiguous little-endian bytes in PyTorch's layout (NCHW convolutions, [out, in] linear weights).

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorData {
  dtype: DType;
  shape: number[];
  /** Row-major (C-contiguous) little-endian bytes, numel · DTYPE_BYTES[dtype] long. */
  data: Uint8Array;
}

/** A state dict: parameter/buffer name → tensor, in the file's order. */
export type StateDict = Map<string, TensorData>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

/** IEEE half → float (exact). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Values of a floating tensor as float32 (fp16/bf16 widen exactly; fp64 rounds). */
export function toFloat32(t: TensorData): Float32Array {
  const n = numel(t.shape);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      // bfloat16 is the high half of a float32
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      throw new Error(`a ${t.dtype} tensor is not floating point`);
  }
}

/** Values of an integer tensor as numbers (int64 beyond 2^53 is refused rather than rounded). */
export function toIntegers(t: TensorData): number[] {
  const n = numel(t.shape);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'I64': {
        const v = dv.getBigInt64(8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`int64 value ${v} beyond 2^53`);
        out.push(Number(v));
        break;
      }
      case 'I32':
        out.push(dv.getInt32(4 * i, true));
        break;
      case 'I16':
        out.push(dv.getInt16(2 * i, true));
        break;
      case 'I8':
        out.push(dv.getInt8(i));
        break;
      case 'U8':
      case 'BOOL':
        out.push(dv.getUint8(i));
        break;
      default:
        throw new Error(`a ${t.dtype} tensor is not an integer tensor`);
    }
  }
  return out;
}

/** toFloat32 under the name the SDK exports. */
export const tensorDataToFloat32 = toFloat32;

export function float32Tensor(shape: number[], values: Float32Array): TensorData {
  if (values.length !== numel(shape)) throw new Error(`internal: ${values.length} values for shape [${shape}]`);
  const data = new Uint8Array(values.length * 4);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(4 * i, values[i]!, true);
  return { dtype: 'F32', shape, data };
}

export function int64Tensor(shape: number[], values: number[]): TensorData {
  const data = new Uint8Array(values.length * 8);
  const dv = new DataView(data.buffer);
  values.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return { dtype: 'I64', shape, data };
}
