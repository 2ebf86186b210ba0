// torch.save(state_dict) in PyTorch's zip layout: archive/data.pkl (protocol 2: an OrderedDict of
// torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()) with storages as persistent ids
// ('storage', torch.XStorage, key, 'cpu', numel)), archive/data/<key> raw little-endian storages, archive/version
// ("3", what PyTorch 1.6–2.x write) and archive/byteorder ("little", read by PyTorch ≥ 2.1). The OrderedDict carries
// no `_metadata`: load_state_dict only consults it to fill in buffers missing from old files, and every buffer,
// num_batches_tracked included, is written here. Only globals on the reader's allow-list are emitted, so
// `torch.load(f, weights_only=True)` accepts the file too.
import { numel, type DType, type StateDict, type TensorData } from '../tensor.js';
import { writeStoredZip } from './zip-write.js';

const STORAGE_OF: Record<DType, string> = {
  F64: 'DoubleStorage',
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

/** A protocol-2 pickle emitter for exactly the objects a state dict consists of. */
class PickleWriter {
  private chunks: number[] = [];
  private memo = new Map<string, number>();
  byte(...b: number[]) {
    for (const x of b) this.chunks.push(x);
  }
  u32(n: number) {
    this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  int(n: number) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`internal: pickle int ${n}`);
    if (n < 256) this.byte(0x4b, n); // BININT1
    else if (n < 65536) this.byte(0x4d, n & 0xff, n >> 8); // BININT2
    else if (n < 2 ** 31) (this.byte(0x4a), this.u32(n)); // BININT
    else {
      // LONG1, little-endian two's complement
      const bytes: number[] = [];
      let v = BigInt(n);
      while (v > 0n) {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
      }
      if (bytes[bytes.length - 1]! & 0x80) bytes.push(0);
      this.byte(0x8a, bytes.length, ...bytes);
    }
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.byte(0x58); // BINUNICODE
    this.u32(b.length);
    this.byte(...b);
  }
  /** GLOBAL, memoized (BINPUT once, BINGET after) as pickle.dumps does. */
  global(module: string, name: string) {
    const key = `${module}\n${name}\n`;
    const id = this.memo.get(key);
    if (id !== undefined && id < 256) return this.byte(0x68, id); // BINGET
    this.byte(0x63, ...new TextEncoder().encode(key)); // GLOBAL
    if (this.memo.size < 256) {
      this.memo.set(key, this.memo.size);
      this.byte(0x71, this.memo.size - 1); // BINPUT
    }
  }
  float(x: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false); // BINFLOAT is big-endian
    this.byte(0x47, ...b);
  }
  tuple(items: number[]) {
    if (items.length === 0) return this.byte(0x29);
    this.byte(0x28); // MARK
    for (const i of items) this.int(i);
    this.byte(0x74); // TUPLE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d]!;
  }
  return stride;
}

/**
 * What torch.save can be given here: a Map is an OrderedDict (a state dict), a plain object a dict, an array a list;
 * integers are ints, other numbers floats; TensorData a tensor.
 */
export type TorchWritable = null | boolean | number | string | TensorData | TorchWritable[] | Map<string, TorchWritable> | { [key: string]: TorchWritable };

function isTensor(v: unknown): v is TensorData {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && (v as TensorData).data instanceof Uint8Array && 'dtype' in v;
}

/** The bytes of `torch.save(value)` in the zip layout (one storage per tensor). */
export function writeTorchFile(value: TorchWritable, archiveName = 'archive'): Uint8Array {
  const p = new PickleWriter();
  const storages: { name: string; data: Uint8Array }[] = [];
  const emit = (v: TorchWritable): void => {
    if (v === null) return p.byte(0x4e); // NONE
    if (typeof v === 'boolean') return p.byte(v ? 0x88 : 0x89);
    if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= 0 && Number.isSafeInteger(v)) return p.int(v);
      if (Number.isInteger(v) && v >= -(2 ** 31)) return (p.byte(0x4a), p.u32(v >>> 0)); // BININT, signed
      return p.float(v);
    }
    if (typeof v === 'string') return p.str(v);
    if (isTensor(v)) {
      const key = String(storages.length);
      p.global('torch._utils', '_rebuild_tensor_v2');
      p.byte(0x28, 0x28); // MARK (args), MARK (persistent id)
      p.str('storage');
      p.global('torch', STORAGE_OF[v.dtype]);
      p.str(key);
      p.str('cpu');
      p.int(numel(v.shape));
      p.byte(0x74, 0x51); // TUPLE, BINPERSID
      p.int(0); // storage offset
      p.tuple(v.shape);
      p.tuple(contiguousStride(v.shape));
      p.byte(0x89); // requires_grad False
      p.global('collections', 'OrderedDict');
      p.byte(0x29, 0x52); // backward_hooks = OrderedDict()
      p.byte(0x74, 0x52); // TUPLE, REDUCE
      storages.push({ name: `${archiveName}/data/${key}`, data: v.data });
      return;
    }
    if (Array.isArray(v)) {
      p.byte(0x5d); // EMPTY_LIST
      if (v.length) {
        p.byte(0x28);
        v.forEach(emit);
        p.byte(0x65); // APPENDS
      }
      return;
    }
    const entries = v instanceof Map ? [...v] : Object.entries(v);
    if (v instanceof Map) {
      p.global('collections', 'OrderedDict');
      p.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
    } else {
      p.byte(0x7d); // EMPTY_DICT
    }
    if (entries.length) {
      p.byte(0x28);
      for (const [k, x] of entries) {
        if (/^\d+$/.test(k) && !(v instanceof Map)) p.int(Number(k)); // int keys (optimizer state/params)
        else p.str(k);
        emit(x);
      }
      p.byte(0x75); // SETITEMS
    }
  };
  p.byte(0x80, 2); // PROTO 2
  emit(value);
  p.byte(0x2e); // STOP
  const enc = new TextEncoder();
  return writeStoredZip([
    { name: `${archiveName}/data.pkl`, data: p.bytes() },
    { name: `${archiveName}/byteorder`, data: enc.encode('little') },
    ...storages,
    { name: `${archiveName}/version`, data: enc.encode('3\n') },
  ]);
}

/** The bytes of `torch.save(state_dict)` (zip layout). */
export function writeTorchStateDict(sd: StateDict, archiveName = 'archive'): Uint8Array {
  return writeTorchFile(sd, archiveName);
}
