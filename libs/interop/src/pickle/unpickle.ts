// A data-only unpickler for the pickles inside PyTorch checkpoints (Python's pickle protocols 0–5; torch.save
// writes protocol 2). It is an opcode interpreter over a stack, as specified by CPython's Lib/pickletools.py, with
// one difference that matters: it never imports or calls anything. GLOBAL / STACK_GLOBAL are looked up in a fixed
// table the caller passes (`globals`); any other name is refused before anything else happens, and REDUCE / NEWOBJ /
// BUILD only ever apply those table entries. INST / OBJ (old-style class instantiation) and extension codes are
// refused outright: a state dict never needs them.
//
// Why not the `pickleparser` package (used by @facet/data for .bin files)? Its default resolver turns unknown globals
// into placeholder objects and its REDUCE/NEWOBJ apply whatever sits on the stack, so "refuse anything but these
// names" would rest on every path through it; a 250-line interpreter whose every opcode is visible is easier to audit.

/** What a pickle can produce here. Lists and tuples are arrays (tuples frozen); dicts are Maps. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | Map<PyValue, PyValue>
  | PyObject;

/** An object built by one of the allowed globals (a tensor, a storage, an OrderedDict's metadata…). */
export interface PyObject {
  readonly pyType: string;
  /** BUILD: Python's __setstate__. Absent → BUILD on this object is refused. */
  setState?(state: PyValue): void;
}

/** A callable the pickle may name: called by REDUCE (args tuple) or NEWOBJ (cls.__new__(cls, *args)). */
export type PyCallable = (args: PyValue[]) => PyValue;

export interface UnpickleOptions {
  /** The only globals the pickle may name, keyed "module.name". */
  globals: ReadonlyMap<string, PyCallable | PyValue>;
  /** BINPERSID / PERSID: PyTorch's persistent_load (storage references). Absent → refused. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Says which file a refusal or a truncation is about. */
  source: string;
  /** Start offset in `buf` (legacy .pth files hold several pickles one after another). Default 0. */
  offset?: number;
}

export interface UnpickleResult {
  value: PyValue;
  /** Offset just after the STOP opcode. */
  end: number;
}

/** A callable marker so REDUCE can tell an allowed global from data. */
const CALLABLE = Symbol('callable');
interface GlobalRef {
  [CALLABLE]: true;
  name: string;
  fn: PyCallable;
}

function isGlobalRef(v: unknown): v is GlobalRef {
  return typeof v === 'object' && v !== null && (v as GlobalRef)[CALLABLE] === true;
}

const MARK = Symbol('mark');

export class PickleError extends Error {}

/** Unpickle one pickle from `buf` starting at `offset`, with only the given globals. Never executes anything. */
export function unpickle(buf: Uint8Array, opts: UnpickleOptions): UnpickleResult {
  const src = opts.source;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = opts.offset ?? 0;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const fail = (what: string): never => {
    throw new PickleError(`${src}: ${what}`);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > buf.length) fail('the pickle ends early; the file is truncated or damaged');
  };
  const u8 = () => (need(1), buf[pos++]!);
  const u16 = () => (need(2), (pos += 2), dv.getUint16(pos - 2, true));
  const i32 = () => (need(4), (pos += 4), dv.getInt32(pos - 4, true));
  const u32 = () => (need(4), (pos += 4), dv.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getUint32(pos, true) + 2 ** 32 * dv.getUint32(pos + 4, true);
    pos += 8;
    if (!Number.isSafeInteger(v)) fail('a length beyond 2^53 in the pickle; the file is damaged');
    return v;
  };
  const bytes = (n: number) => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const latin1 = (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join('');
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle ends early in a text opcode; the file is truncated or damaged');
    const s = latin1(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) fail('malformed pickle (pop from an empty stack)');
    const v = stack.pop();
    if (v === MARK) fail('malformed pickle (unexpected mark)');
    return v;
  };
  const top = () => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) fail('malformed pickle (empty stack)');
    return v;
  };
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('malformed pickle (no mark)');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const resolveGlobal = (module: string, name: string): GlobalRef | PyValue => {
    const full = `${module}.${name}`;
    if (!opts.globals.has(full)) {
      fail(`pickle refers to ${full}, which a state dict never needs; refusing to load it (Facet never executes pickles)`);
    }
    const g = opts.globals.get(full)!;
    return typeof g === 'function' ? { [CALLABLE]: true, name: full, fn: g as PyCallable } : (g as PyValue);
  };
  const call = (f: unknown, args: unknown, how: string): unknown => {
    if (!isGlobalRef(f)) fail(`malformed pickle (${how} applies something that is not one of the allowed globals)`);
    if (!Array.isArray(args)) fail(`malformed pickle (${how} without an argument tuple)`);
    return (f as GlobalRef).fn(args as PyValue[]);
  };
  const setItems = (d: unknown, items: unknown[]) => {
    if (!(d instanceof Map)) fail('malformed pickle (SETITEM on something that is not a dict)');
    if (items.length % 2) fail('malformed pickle (odd number of dict items)');
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l) || Object.isFrozen(l)) fail('malformed pickle (APPEND on something that is not a list)');
    (l as unknown[]).push(...items);
  };
  const tuple = (items: unknown[]) => Object.freeze(items);
  const decodeLong = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const textInt = (s: string) => {
    const t = s.replace(/L$/, '');
    if (t === '00') return false; // protocol 0's False / True
    if (t === '01') return true;
    if (!/^[+-]?\d+$/.test(t)) fail(`malformed pickle (integer ${JSON.stringify(s)})`);
    const v = BigInt(t);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5; not a file PyTorch writes');
        break;
      case 0x95: // FRAME (protocol 4): a length prefix only
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop() as PyValue, end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack.length && stack[stack.length - 1] === MARK) stack.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // ---- atoms
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x49: // INT
        stack.push(textInt(line()));
        break;
      case 0x4c: // LONG
        stack.push(textInt(line()));
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(bytes(i32())));
        break;
      case 0x47: // BINFLOAT (big-endian float64)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT
        const v = Number(line());
        if (Number.isNaN(v)) fail('malformed pickle (float)');
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(bytes(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a?: string, b?: string) => String.fromCodePoint(parseInt(a ?? b!, 16))));
        break;
      case 0x54: // BINSTRING (py2 str): text, as Python 3 reads it with the default encoding
        stack.push(latin1(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(bytes(u8())));
        break;
      case 0x53: {
        // STRING (quoted repr)
        const s = line();
        if (s.length < 2 || (s[0] !== "'" && s[0] !== '"') || s[s.length - 1] !== s[0]) fail('malformed pickle (STRING)');
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      // ---- containers
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(tuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const d = new Map();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      // ---- memo
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const k = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(k)) fail(`malformed pickle (memo key ${k} missing)`);
        stack.push(memo.get(k));
        break;
      }
      // ---- the only places code could run: all go through the fixed table
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('malformed pickle (STACK_GLOBAL)');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args, 'REDUCE'));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        stack.push(call(pop(), args, 'NEWOBJ'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top() as PyObject;
        if (typeof obj !== 'object' || obj === null || typeof obj.setState !== 'function') {
          fail('malformed pickle (BUILD on an object that takes no state)');
        }
        obj.setState!(state as PyValue);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('pickle refers to external (persistent) objects where none are expected');
        stack.push(opts.persistentLoad!(pid as PyValue));
        break;
      }
      case 0x50: {
        // PERSID
        const pid = line();
        if (!opts.persistentLoad) fail('pickle refers to external (persistent) objects where none are expected');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x92: // NEWOBJ_EX
        fail(`pickle instantiates a class (opcode 0x${op.toString(16)}), which a state dict never needs; refusing to load it (Facet never executes pickles)`);
        break;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        fail('pickle uses the copyreg extension registry, which a state dict never needs; refusing to load it');
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}; not a PyTorch state dict, or the file is damaged`);
    }
  }
}
