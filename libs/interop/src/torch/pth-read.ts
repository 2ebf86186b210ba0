// torch.load without executing anything: the two layouts torch.save writes (torch/serialization.py).
//  - zip (default since PyTorch 1.6): an uncompressed zip, every entry under one top folder: data.pkl (the object,
//    protocol 2, storages as persistent ids ('storage', <torch.XStorage>, key, location, numel)), data/<key> (one raw
//    little-endian storage each), version, and in newer releases byteorder and .data/serialization_id.
//  - legacy (_use_new_zipfile_serialization=False): pickles one after another: magic number, protocol version,
//    sys_info, the object (persistent ids ('storage', type, key, location, numel, view_metadata)), the list of
//    storage keys; then per key an int64 element count and the raw storage bytes.
// Only the globals a state dict (or an arcface_torch checkpoint dict) needs are allowed; see TORCH_GLOBALS.
import { unzipSync } from 'fflate';
import { PickleError, unpickle, type PyCallable, type PyObject, type PyValue } from '../pickle/unpickle.js';
import { DTYPE_BYTES, numel, type DType, type TensorData } from '../tensor.js';

/** torch.XStorage class names → element type. */
export const STORAGE_DTYPES: Record<string, DType> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

class StorageType implements PyObject {
  readonly pyType = 'torch.StorageType';
  constructor(readonly dtype: DType) {}
}

export class StorageRef implements PyObject {
  readonly pyType = 'torch.Storage';
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
  ) {}
}

/** A tensor as the pickle describes it: a view (offset, size, stride) of a storage. */
export class TensorRef implements PyObject {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
  /** _rebuild_parameter_with_state / a tensor subclass's python attributes: ignored (no data). */
  setState(): void {}
}

/** collections.OrderedDict: a Map; BUILD sets its instance attributes (PyTorch's `_metadata`). */
export class OrderedDictValue extends Map<PyValue, PyValue> implements PyObject {
  readonly pyType = 'collections.OrderedDict';
  attributes: Map<PyValue, PyValue> = new Map();
  setState(state: PyValue): void {
    if (state instanceof Map) for (const [k, v] of state) this.attributes.set(k, v);
  }
}

const ints = (v: PyValue, what: string): number[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) {
    throw new Error(`malformed tensor (${what} is not a tuple of non-negative integers)`);
  }
  return v as number[];
};

function rebuildTensor(args: PyValue[]): PyValue {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw new Error('malformed tensor (its storage is not a storage reference)');
  if (typeof offset !== 'number') throw new Error('malformed tensor (storage offset)');
  return new TensorRef(storage, offset, ints(size!, 'size'), ints(stride!, 'stride'));
}

function rebuildParameter(args: PyValue[]): PyValue {
  if (!(args[0] instanceof TensorRef)) throw new Error('malformed parameter (no tensor)');
  return args[0];
}

/** The fixed set of globals a state dict needs (PyTorch 1.x–2.x torch.save of tensors, Parameters, dicts). */
export const TORCH_GLOBALS: ReadonlyMap<string, PyCallable | PyValue> = new Map<string, PyCallable | PyValue>([
  ['collections.OrderedDict', (() => new OrderedDictValue()) as PyCallable],
  ['torch._utils._rebuild_tensor_v2', rebuildTensor],
  ['torch._utils._rebuild_tensor', rebuildTensor],
  ['torch._utils._rebuild_parameter', rebuildParameter],
  ['torch._utils._rebuild_parameter_with_state', rebuildParameter],
  ...Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [`torch.${name}`, new StorageType(dtype)] as [string, PyValue]),
]);

/** The parsed object with every tensor materialised as contiguous bytes. */
export type TorchValue = null | boolean | number | bigint | string | Uint8Array | TorchValue[] | Map<PyValue, TorchValue> | TensorData;

export function isTensorData(v: unknown): v is TensorData {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && (v as TensorData).data instanceof Uint8Array;
}

function persistentLoader(storages: Map<string, StorageRef>) {
  return (pid: PyValue): PyValue => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') throw new Error(`unexpected persistent id ${JSON.stringify(String(pid))}`);
    const [, type, key, , count] = pid;
    if (!(type instanceof StorageType)) throw new Error('malformed storage reference (no storage type)');
    if (typeof key !== 'string' || typeof count !== 'number') throw new Error('malformed storage reference');
    let s = storages.get(key);
    if (!s) storages.set(key, (s = new StorageRef(key, type.dtype, count)));
    return s;
  };
}

/** Wrap whatever error a pickle handler threw with the file name. */
function parse(buf: Uint8Array, source: string, offset: number, storages?: Map<string, StorageRef>) {
  try {
    return unpickle(buf, { globals: TORCH_GLOBALS, persistentLoad: storages && persistentLoader(storages), source, offset });
  } catch (e) {
    if (e instanceof PickleError) throw e;
    throw new Error(`${source}: ${(e as Error).message}`);
  }
}

function materialize(v: PyValue, bytesOf: (s: StorageRef) => Uint8Array, source: string, path: string): TorchValue {
  if (v instanceof TensorRef) {
    const { storage, offset, shape, stride } = v;
    const n = numel(shape);
    // PyTorch's state_dict tensors are contiguous; a strided view would need a gather that no checkpoint needs
    let expected = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (shape[d] !== 1 && stride[d] !== expected) {
        throw new Error(
          `${source}: tensor ${path} is not contiguous (size [${shape}], stride [${stride}]); save tensors with .contiguous() (a state_dict() always is)`,
        );
      }
      expected *= shape[d]!;
    }
    if (offset + n > storage.numel) throw new Error(`${source}: tensor ${path} reaches past its storage (${offset}+${n} > ${storage.numel} elements); the file is damaged`);
    const all = bytesOf(storage);
    const size = DTYPE_BYTES[storage.dtype];
    return { dtype: storage.dtype, shape: [...shape], data: all.slice(offset * size, (offset + n) * size) };
  }
  if (v instanceof Map) {
    const out = new Map<PyValue, TorchValue>();
    for (const [k, x] of v) out.set(k, materialize(x, bytesOf, source, path ? `${path}.${String(k)}` : String(k)));
    return out;
  }
  if (Array.isArray(v)) return v.map((x, i) => materialize(x, bytesOf, source, `${path}[${i}]`));
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
    throw new Error(`${source}: ${path || 'the object'} is a ${(v as PyObject).pyType} on its own, not data; not a state dict`);
  }
  return v as TorchValue;
}

function readZip(buf: Uint8Array, source: string): TorchValue {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(buf);
  } catch (e) {
    throw new Error(`${source}: not a readable zip archive (${(e as Error).message}); the file is truncated or damaged`);
  }
  const pkl = Object.keys(files).filter((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkl.length !== 1) {
    throw new Error(`${source}: a zip without exactly one <folder>/data.pkl (found ${pkl.length}); not a PyTorch checkpoint`);
  }
  const prefix = pkl[0]!.slice(0, -'data.pkl'.length);
  const order = files[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little') {
    throw new Error(`${source}: storages are big-endian (byteorder ${new TextDecoder().decode(order).trim()}); re-save the file on a little-endian machine`);
  }
  const storages = new Map<string, StorageRef>();
  const { value } = parse(files[pkl[0]!]!, source, 0, storages);
  const bytesOf = (s: StorageRef): Uint8Array => {
    const data = files[`${prefix}data/${s.key}`];
    if (!data) throw new Error(`${source}: storage data/${s.key} is missing from the archive; the file is damaged`);
    if (data.length < s.numel * DTYPE_BYTES[s.dtype]) {
      throw new Error(`${source}: storage data/${s.key} has ${data.length} bytes, ${s.numel * DTYPE_BYTES[s.dtype]} expected; the file is truncated`);
    }
    return data;
  };
  return materialize(value, bytesOf, source, '');
}

function readLegacy(buf: Uint8Array, source: string): TorchValue {
  let r = parse(buf, source, 0);
  if (r.value !== LEGACY_MAGIC) throw new Error(`${source}: starts with a pickle but not PyTorch's magic number; not a PyTorch checkpoint`);
  r = parse(buf, source, r.end);
  if (r.value !== LEGACY_PROTOCOL) throw new Error(`${source}: legacy PyTorch protocol ${String(r.value)}, only ${LEGACY_PROTOCOL} exists`);
  r = parse(buf, source, r.end);
  const sys = r.value;
  if (sys instanceof Map && sys.get('little_endian') === false) {
    throw new Error(`${source}: written on a big-endian machine; re-save it on a little-endian one`);
  }
  const storages = new Map<string, StorageRef>();
  r = parse(buf, source, r.end, storages);
  const main = r.value;
  r = parse(buf, source, r.end);
  const keys = r.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new Error(`${source}: malformed storage key list`);
  const data = new Map<string, Uint8Array>();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = r.end;
  for (const key of keys as string[]) {
    const s = storages.get(key);
    if (pos + 8 > buf.length) throw new Error(`${source}: the file ends before storage ${key}; it is truncated`);
    const count = Number(dv.getBigInt64(pos, true));
    pos += 8;
    const size = DTYPE_BYTES[s?.dtype ?? 'U8'];
    if (!s || count !== s.numel) throw new Error(`${source}: storage ${key} holds ${count} elements, its tensors say ${s?.numel}; the file is damaged`);
    if (pos + count * size > buf.length) throw new Error(`${source}: the file ends inside storage ${key}; it is truncated`);
    data.set(key, buf.subarray(pos, pos + count * size));
    pos += count * size;
  }
  return materialize(main, (s) => data.get(s.key) ?? (() => { throw new Error(`${source}: storage ${s.key} missing`); })(), source, '');
}

export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

export function isLegacyTorch(buf: Uint8Array): boolean {
  // PROTO 2, LONG1 of 10 bytes (the magic number)
  return buf.length >= 4 && buf[0] === 0x80 && buf[1] === 0x02 && buf[2] === 0x8a && buf[3] === 0x0a;
}

/** Read a torch.save file (zip or legacy) into plain data; tensors come out as contiguous bytes. */
export function readTorchFile(buf: Uint8Array, source: string): TorchValue {
  if (isZip(buf)) return readZip(buf, source);
  if (isLegacyTorch(buf)) return readLegacy(buf, source);
  throw new Error(`${source}: neither a zip nor a legacy PyTorch file (first bytes ${Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}); not a .pth/.pt checkpoint`);
}
