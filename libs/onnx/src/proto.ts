// ONNX protobuf in and out (onnx/onnx.proto, via the onnx-proto package's protobufjs bindings), plus the tensor
// payload rules of TensorProto: values live in raw_data (little-endian) or in the typed repeated fields
// (float_data; int32_data also carries FLOAT16/BFLOAT16 bit patterns; int64_data; double_data).
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** TensorProto.DataType values this lib reads. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

/** A constant tensor: floats as Float32Array, integer types as Float64Array (exact up to 2^53). */
export interface ConstTensor {
  dims: number[];
  dataType: number;
  data: Float32Array | Float64Array;
}

/** protobufjs gives int64 as number, Long or string depending on what is installed. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${file}: not a readable ONNX model (protobuf decoding failed: ${(e as Error).message}); the file is truncated or not ONNX — re-export or re-download it.`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    throw new Error(`${file}: not an ONNX model (no graph nodes decoded); the file is truncated or not ONNX — re-export or re-download it.`);
  }
  return model;
}

/** IEEE 754 binary16 → number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 16: 2 };

/** The values of a TensorProto (initializer or Constant attribute); `where` names it in errors. */
export function readTensor(t: TensorProto, where: string): ConstTensor {
  const dims = (t.dims ?? []).map(toNumber);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataType = t.dataType ?? 0;
  if (t.dataLocation === 1) {
    throw new Error(`${where}: tensor '${t.name}' keeps its values in an external data file, which this reader does not follow; re-export the model as one file (models under 2 GB need no external data).`);
  }
  const bytesPer = BYTES[dataType];
  if (bytesPer === undefined) throw new Error(`${where}: tensor '${t.name}' has ONNX data type ${dataType}, which this reader does not handle (float32/16/64, bfloat16, int8/32/64, uint8, bool).`);
  const float = dataType === DataType.FLOAT || dataType === DataType.FLOAT16 || dataType === DataType.BFLOAT16 || dataType === DataType.DOUBLE;
  const out = float && dataType !== DataType.DOUBLE ? new Float32Array(count) : new Float64Array(count);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * bytesPer) {
      throw new Error(`${where}: tensor '${t.name}' [${dims.join(',')}] holds ${raw.length} bytes where ${count * bytesPer} were expected; the file is corrupt.`);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      switch (dataType) {
        case DataType.FLOAT: out[i] = view.getFloat32(i * 4, true); break;
        case DataType.FLOAT16: out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
        case DataType.BFLOAT16: out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0]!; break;
        case DataType.DOUBLE: out[i] = view.getFloat64(i * 8, true); break;
        case DataType.INT64: out[i] = Number(view.getBigInt64(i * 8, true)); break;
        case DataType.INT32: out[i] = view.getInt32(i * 4, true); break;
        case DataType.INT8: out[i] = view.getInt8(i); break;
        default: out[i] = view.getUint8(i);
      }
    }
    return { dims, dataType, data: out };
  }
  const field: ArrayLike<unknown> =
    dataType === DataType.FLOAT ? (t.floatData ?? [])
    : dataType === DataType.DOUBLE ? (t.doubleData ?? [])
    : dataType === DataType.INT64 ? (t.int64Data ?? [])
    : (t.int32Data ?? []);
  if (field.length !== count) {
    throw new Error(`${where}: tensor '${t.name}' [${dims.join(',')}] holds ${field.length} values where ${count} were expected; the file is corrupt.`);
  }
  for (let i = 0; i < count; i++) {
    const v = toNumber(field[i]);
    out[i] = dataType === DataType.FLOAT16 ? halfToFloat(v) : dataType === DataType.BFLOAT16 ? new Float32Array(new Uint32Array([v << 16]).buffer)[0]! : v;
  }
  return { dims, dataType, data: out };
}

/** A float32 TensorProto with raw_data (little-endian), as exporters write initializers. */
export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return onnx.TensorProto.create({ name, dims, dataType: DataType.FLOAT, rawData: raw });
}

export type AttrValue = number | number[] | string | ConstTensor;

/** Attribute values by name (INT/FLOAT/INTS/FLOATS/STRING/TENSOR). */
export function readAttributes(node: NodeProto, where: string): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    switch (a.type) {
      case onnx.AttributeProto.AttributeType.INT: out[name] = toNumber(a.i); break;
      case onnx.AttributeProto.AttributeType.FLOAT: out[name] = a.f ?? 0; break;
      case onnx.AttributeProto.AttributeType.INTS: out[name] = (a.ints ?? []).map(toNumber); break;
      case onnx.AttributeProto.AttributeType.FLOATS: out[name] = [...(a.floats ?? [])]; break;
      case onnx.AttributeProto.AttributeType.STRING: out[name] = new TextDecoder().decode(a.s ?? new Uint8Array()); break;
      case onnx.AttributeProto.AttributeType.TENSOR: if (a.t) out[name] = readTensor(a.t, where); break;
      default: break;
    }
  }
  return out;
}
