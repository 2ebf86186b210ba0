// Training checkpoints: everything needed to continue bit-for-bit — backbone (with BN running stats) and head
// weights, optimizer slots, Partial FC centers and their optimizer state, scheduler step, RNG and loader position.
// A checkpoint is a directory written under a temporary name and renamed into place; `latest.json` (itself written
// atomically) names the newest complete one, so a crash at any moment leaves the previous checkpoint usable.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './atomic.js';

export type TypedArray = Float32Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float64Array;

interface TensorEntry {
  dtype: string;
  offset: number;
  length: number;
  shape?: number[];
}

const CTORS: Record<string, new (buf: ArrayBuffer, off: number, len: number) => TypedArray> = {
  Float32Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  Float64Array,
};

export interface CheckpointContent {
  meta: Record<string, unknown>;
  arrays: Record<string, TypedArray>;
}

const FORMAT = 'facet-train-checkpoint/1';

export function writeCheckpoint(root: string, step: number, content: CheckpointContent, keep = 2): string {
  const dir = join(root, 'checkpoints');
  mkdirSync(dir, { recursive: true });
  const name = `step-${String(step).padStart(8, '0')}`;
  const tmp = join(dir, `.tmp-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const index: Record<string, TensorEntry> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [key, arr] of Object.entries(content.arrays)) {
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    const pad = (8 - (offset % 8)) % 8; // keep every array 8-byte aligned for zero-copy views on load
    if (pad) parts.push(new Uint8Array(pad));
    offset += pad;
    index[key] = { dtype: arr.constructor.name, offset, length: arr.length };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  writeFileAtomic(join(tmp, 'tensors.bin'), parts);
  writeFileAtomic(join(tmp, 'state.json'), JSON.stringify({ format: FORMAT, step, meta: content.meta, index }, null, 1));
  const final = join(dir, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  fsyncDir(dir);
  writeFileAtomic(join(dir, 'latest.json'), JSON.stringify({ step, dir: name }));
  const old = readdirSync(dir).filter((d) => /^step-\d+$/.test(d)).sort();
  for (const d of old.slice(0, Math.max(0, old.length - keep))) rmSync(join(dir, d), { recursive: true, force: true });
  return final;
}

export function latestCheckpoint(root: string): string | undefined {
  const dir = join(root, 'checkpoints');
  const latest = join(dir, 'latest.json');
  if (existsSync(latest)) {
    const { dir: name } = JSON.parse(readFileSync(latest, 'utf8')) as { dir: string };
    if (existsSync(join(dir, name, 'state.json'))) return join(dir, name);
  }
  // latest.json lost (crash between rename and pointer update): fall back to the newest complete directory
  if (!existsSync(dir)) return undefined;
  const complete = readdirSync(dir)
    .filter((d) => /^step-\d+$/.test(d) && existsSync(join(dir, d, 'state.json')))
    .sort();
  return complete.length ? join(dir, complete.at(-1)!) : undefined;
}

export function readCheckpoint(path: string): CheckpointContent & { step: number } {
  let state: { format: string; step: number; meta: Record<string, unknown>; index: Record<string, TensorEntry> };
  try {
    state = JSON.parse(readFileSync(join(path, 'state.json'), 'utf8'));
  } catch (e) {
    throw new Error(`checkpoint ${path}: state.json is missing or unreadable (${(e as Error).message}); delete this checkpoint directory to resume from the previous one`);
  }
  if (state.format !== FORMAT) throw new Error(`checkpoint ${path}: format "${state.format}" is not ${FORMAT}`);
  const buf = readFileSync(join(path, 'tensors.bin'));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const arrays: Record<string, TypedArray> = {};
  for (const [key, e] of Object.entries(state.index)) {
    const C = CTORS[e.dtype];
    if (!C) throw new Error(`checkpoint ${path}: unknown dtype ${e.dtype} for ${key}`);
    const bytesPer = (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    if (e.offset + e.length * bytesPer > ab.byteLength) {
      throw new Error(`checkpoint ${path}: tensors.bin is truncated (${key} needs bytes up to ${e.offset + e.length * bytesPer}, file has ${ab.byteLength})`);
    }
    arrays[key] = new C(ab, e.offset, e.length);
  }
  return { step: state.step, meta: state.meta, arrays };
}
