// safetensors (huggingface/safetensors, docs "format"): an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}} (padded with spaces to a
// multiple of 8), then the raw little-endian data, offsets relative to its start. No code, nothing to execute.
// Writing follows the reference implementation's order (safetensors/src/tensor.rs `prepare`): tensors sorted by
// dtype alignment, largest first, then by name, laid out back to back in that order; keys serialised in that order,
// __metadata__ first. So `safetensors.torch.save_file(model.state_dict())` and Facet give the same bytes.
import { DTYPE_BYTES, numel, type DType, type StateDict } from './tensor.js';

const DTYPES = new Set<string>(Object.keys(DTYPE_BYTES));
const MAX_HEADER = 100_000_000; // the reference reader's limit

export interface SafetensorsFile {
  tensors: StateDict;
  metadata: Record<string, string>;
}

export function isSafetensors(buf: Uint8Array): boolean {
  if (buf.length < 9) return false;
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  return n > 1 && n <= Math.min(MAX_HEADER, buf.length - 8) && buf[8] === 0x7b; // '{'
}

export function readSafetensors(buf: Uint8Array, source: string): SafetensorsFile {
  const bad = (what: string): never => {
    throw new Error(`${source}: ${what}`);
  };
  if (buf.length < 8) bad('shorter than the 8-byte header length; not a safetensors file');
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.length) bad(`header length ${n} runs past the end of the file (${buf.length} bytes); the file is truncated or not safetensors`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    return bad(`header is not valid JSON (${(e as Error).message}); not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) bad('header is not a JSON object');
  const data = buf.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors: StateDict = new Map();
  const spans: Array<[number, number, string]> = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((info ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t?.dtype !== 'string' || !DTYPES.has(t.dtype)) bad(`tensor ${name}: dtype ${JSON.stringify(t?.dtype)} is not supported (${[...DTYPES].join(', ')})`);
    const dtype = t.dtype as DType;
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      bad(`tensor ${name}: data_offsets ${JSON.stringify(off)} is not [begin, end]`);
    }
    const [begin, end] = off as [number, number];
    const bytes = numel(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== bytes) bad(`tensor ${name}: ${end - begin} bytes for ${dtype}[${shape}] (${bytes} expected)`);
    if (end > data.length) bad(`tensor ${name} ends at byte ${end} of ${data.length} data bytes; the file is truncated`);
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape: [...(shape as number[])], data: data.slice(begin, end) });
  }
  // the format forbids overlapping tensors (and holes); check the first, which would alias two tensors
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) bad(`tensors ${spans[i - 1]![2]} and ${spans[i]![2]} overlap; the file is damaged`);
  }
  return { tensors, metadata };
}

export function writeSafetensors(tensors: StateDict, metadata?: Record<string, string>): Uint8Array {
  const order = [...tensors.keys()].sort((a, b) => {
    const d = DTYPE_BYTES[tensors.get(b)!.dtype] - DTYPE_BYTES[tensors.get(a)!.dtype];
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of order) {
    const t = tensors.get(name)!;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let o = 8 + json.length;
  for (const name of order) {
    out.set(tensors.get(name)!.data, o);
    o += tensors.get(name)!.data.length;
  }
  return out;
}
