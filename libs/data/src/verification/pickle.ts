// Python pickle I/O for insightface verification .bin files, `pickle.dump((bins, issame_list))`.
// Reading uses the maintained `pickleparser` package with Python's encoding='bytes' semantics (what insightface's
// load_bin falls back to): Python-2 `str` objects (BINSTRING / SHORT_BINSTRING, how the official lfw/cfp_fp/agedb
// files store JPEG bytes) come out as raw bytes instead of being decoded as text, and Python 3's protocol-2 spelling
// of bytes, `_codecs.encode(latin1_text, 'latin1')`, is turned back into bytes.
// Writing emits a minimal, valid pickle: PROTO, two lists built with MARK … APPENDS, TUPLE2, STOP.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Encoding = 'ascii' | 'utf-8';

/** pickleparser's IReader, with 'ascii' strings (py2 str) returned as bytes. */
class BytesAsBytesReader {
  private pos = 0;
  private readonly dv: DataView;
  private readonly utf8 = new TextDecoder('utf-8');
  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get length() {
    return this.buf.length;
  }
  get position() {
    return this.pos;
  }
  skip(n: number) {
    this.pos += n;
    if (this.pos > this.buf.length) throw new Error(`unexpected end of pickle data (${this.pos - this.buf.length} bytes missing); the file is truncated`);
  }
  byte() {
    const p = this.pos;
    this.skip(1);
    return this.buf[p]!;
  }
  bytes(n: number) {
    const p = this.pos;
    this.skip(n);
    return this.buf.subarray(p, p + n);
  }
  uint16() {
    const p = this.pos;
    this.skip(2);
    return this.dv.getUint16(p, true);
  }
  int32() {
    const p = this.pos;
    this.skip(4);
    return this.dv.getInt32(p, true);
  }
  uint32() {
    const p = this.pos;
    this.skip(4);
    return this.dv.getUint32(p, true);
  }
  uint64() {
    const p = this.pos;
    this.skip(8);
    const v = this.dv.getUint32(p, true) + 2 ** 32 * this.dv.getUint32(p + 4, true);
    if (!Number.isSafeInteger(v)) throw new Error('pickle length beyond 2^53');
    return v;
  }
  float64() {
    const p = this.pos;
    this.skip(8);
    return this.dv.getFloat64(p, false);
  }
  string(size: number, encoding: Encoding): string {
    const b = this.bytes(size);
    // py2 str (BINSTRING / SHORT_BINSTRING) → bytes, as pickle.load(f, encoding='bytes')
    if (encoding === 'ascii') return b.slice() as unknown as string;
    return this.utf8.decode(b);
  }
  /**
   * A text-opcode line (protocol 0). pickleparser leaves escapes alone, so they are undone here: UNICODE lines use
   * raw-unicode-escape (\\uXXXX, \\UXXXXXXXX), quoted STRING lines Python string escapes (\\xhh, \\n, \\\\, …);
   * the quotes stay for pickleparser to strip. Integers, floats and names contain no backslashes.
   */
  line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) throw new Error('unexpected end of pickle data in a text opcode; the file is truncated');
    let s = '';
    for (let i = this.pos; i < end; i++) s += String.fromCharCode(this.buf[i]!);
    this.pos = end + 1;
    if (!s.includes('\\')) return s;
    const q = s[0];
    // a py2 repr never holds an unescaped \u (its backslashes are doubled); a raw-unicode-escape line does
    const rawUnicode = /(^|[^\\])(\\\\)*\\[uU][0-9a-fA-F]{4}/.test(s);
    if (!rawUnicode && (q === "'" || q === '"') && s.length >= 2 && s[s.length - 1] === q) return q + unescapePythonString(s.slice(1, -1)) + q;
    return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, h4?: string, h8?: string) => String.fromCodePoint(parseInt(h4 ?? h8!, 16)));
  }
  hasNext() {
    return this.pos < this.buf.length;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"' };

/** Python 2 repr() escapes of a str, back to its bytes (one char per byte). */
function unescapePythonString(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return SIMPLE_ESCAPES[e] ?? m;
  });
}

/** Unpickle `buf` (protocols 0–5). Bytes objects become Uint8Array, bools stay booleans, tuples/lists arrays. */
export function unpickle(buf: Uint8Array): unknown {
  const { Parser, NameRegistry } = require('pickleparser') as typeof import('pickleparser');
  const names = new NameRegistry().register('_codecs', 'encode', (text: string, encoding: string) => {
    if (encoding !== 'latin1' && encoding !== 'latin-1') throw new Error(`_codecs.encode with encoding ${encoding} is not bytes data`);
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  });
  // protocol-0/1 pickles of py3 bytes use `__builtin__.bytes`/`builtins.bytes` of a list of ints
  names.register('builtins', 'bytes', (x: unknown) => (Array.isArray(x) ? Uint8Array.from(x as number[]) : x));
  const parser = new Parser({ nameResolver: names });
  return parser.read(new BytesAsBytesReader(buf) as never);
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/**
 * Pickle `(bins, issame)`: protocol 4 stores bins as BINBYTES (Python 3 bytes); protocol 2 as BINSTRING (Python 2
 * str, the layout of the official insightface files, read by Python 3 with encoding='bytes').
 */
export function pickleBinTuple(bins: Uint8Array[], issame: boolean[], protocol: 2 | 4 = 4): Uint8Array {
  const head: number[] = [0x80, protocol, 0x5d, 0x28]; // PROTO, EMPTY_LIST, MARK
  const parts: Uint8Array[] = [Uint8Array.from(head)];
  for (const b of bins) {
    if (b.length > 0xffffffff) throw new Error('pickleBinTuple: an image of ≥ 4 GiB cannot be stored');
    const op = b.length < 256 ? [protocol === 4 ? 0x43 : 0x55, b.length] : [protocol === 4 ? 0x42 : 0x54, ...u32le(b.length)];
    parts.push(Uint8Array.from(op), b);
  }
  const tail: number[] = [0x65, 0x5d, 0x28]; // APPENDS, EMPTY_LIST, MARK
  for (const s of issame) tail.push(s ? 0x88 : 0x89); // NEWTRUE / NEWFALSE
  tail.push(0x65, 0x86, 0x2e); // APPENDS, TUPLE2, STOP
  parts.push(Uint8Array.from(tail));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
