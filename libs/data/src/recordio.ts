// MXNet / dmlc RecordIO, the container of insightface's train.rec + train.idx.
//  .rec: records [u32 magic 0xced7230a][u32 lrec = cflag<<29 | length][payload][zero pad to 4 B]. A payload that
//        contains the magic word at a 4-byte-aligned position is split there (cflag 1 = first part, 2 = middle,
//        3 = last; the magic itself is dropped and restored on reading), as dmlc-core's RecordIOWriter does.
//  .idx: text lines "key\toffset" (offset of the record's first magic).
//  Payload of an image record (mx.recordio.pack): IRHeader 'IfQQ' = flag u32, label f32, id u64, id2 u64 (24 B,
//  little-endian); when flag > 0 the header's label is unused and `flag` float32 labels follow; then image bytes.

import { closeSync, createReadStream, existsSync, openSync, read as readCb, statSync } from 'node:fs';
import { open as openFile, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DataError, reason } from './errors.js';

const readAt = promisify(readCb);

export const RECORDIO_MAGIC = 0xced7230a;
export const IR_HEADER_SIZE = 24;
const MAX_RECORD = 1 << 29;

export interface IRHeader {
  /** 0 ⇒ `label` is the scalar label; n > 0 ⇒ `labels` holds n floats. */
  flag: number;
  label: number;
  /** The float32 labels that followed the header when flag > 0 (else a single [label]). */
  labels: Float32Array;
  id: number;
  id2: number;
}

/** Path of the .idx that belongs to a .rec (train.rec → train.idx). */
export function idxPathFor(recPath: string): string {
  return recPath.replace(/\.rec$/i, '') + '.idx';
}

/** mx.recordio.pack: IRHeader + (array labels) + payload. A label array sets flag = its length. */
export function packIRRecord(header: { label: number | ArrayLike<number>; id?: number; id2?: number }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const arr = typeof header.label === 'number' ? null : Float32Array.from(header.label);
  const extra = arr ? arr.length * 4 : 0;
  const out = new Uint8Array(IR_HEADER_SIZE + extra + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, arr ? arr.length : 0, true);
  dv.setFloat32(4, arr ? 0 : (header.label as number), true);
  dv.setBigUint64(8, BigInt(header.id ?? 0), true);
  dv.setBigUint64(16, BigInt(header.id2 ?? 0), true);
  if (arr) new Uint8Array(out.buffer, IR_HEADER_SIZE, extra).set(new Uint8Array(arr.buffer));
  out.set(payload, IR_HEADER_SIZE + extra);
  return out;
}

/** mx.recordio.unpack: split a record payload into its IRHeader and the remaining bytes (the encoded image). */
export function unpackIRRecord(rec: Uint8Array, source = 'record'): { header: IRHeader; payload: Uint8Array } {
  if (rec.length < IR_HEADER_SIZE) throw new DataError(`${source}: record of ${rec.length} bytes is shorter than the 24-byte IRHeader`);
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const flag = dv.getUint32(0, true);
  const label = dv.getFloat32(4, true);
  const id = Number(dv.getBigUint64(8, true));
  const id2 = Number(dv.getBigUint64(16, true));
  let labels: Float32Array;
  let start = IR_HEADER_SIZE;
  if (flag > 0) {
    if (rec.length < IR_HEADER_SIZE + flag * 4) throw new DataError(`${source}: header announces ${flag} labels but the record has only ${rec.length} bytes`);
    labels = new Float32Array(flag);
    for (let i = 0; i < flag; i++) labels[i] = dv.getFloat32(IR_HEADER_SIZE + i * 4, true);
    start += flag * 4;
  } else {
    labels = Float32Array.of(label);
  }
  return { header: { flag, label, labels, id, id2 }, payload: rec.subarray(start) };
}

/** dmlc RecordIOWriter::WriteRecord framing of one record (with multi-part splitting and padding). */
export function frameRecord(data: Uint8Array): Uint8Array {
  if (data.length >= MAX_RECORD) throw new Error(`RecordIO records must be < 2^29 bytes, got ${data.length}`);
  const parts: Array<[number, number, number]> = []; // cflag, start, end
  const lowerAlign = data.length & ~3;
  let dptr = 0;
  for (let i = 0; i < lowerAlign; i += 4) {
    if (data[i] === 0x0a && data[i + 1] === 0x23 && data[i + 2] === 0xd7 && data[i + 3] === 0xce) {
      parts.push([dptr === 0 ? 1 : 2, dptr, i]);
      dptr = i + 4;
    }
  }
  parts.push([dptr !== 0 ? 3 : 0, dptr, data.length]);
  const total = parts.reduce((n, [, s, e]) => n + 8 + ((e - s + 3) & ~3), 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const [cflag, s, e] of parts) {
    dv.setUint32(p, RECORDIO_MAGIC, true);
    dv.setUint32(p + 4, ((cflag << 29) | (e - s)) >>> 0, true);
    out.set(data.subarray(s, e), p + 8);
    p += 8 + ((e - s + 3) & ~3);
  }
  return out;
}

/**
 * Undo the framing of the record starting at `buf[0]` (dmlc RecordIOReader::NextRecord). Returns the payload and
 * the number of bytes consumed, or null when `buf` ends before the record does; throws a DataError when the magic
 * is wrong (corrupt file, or an .idx that does not belong to the .rec).
 */
export function tryUnframeRecord(buf: Uint8Array, source: string): { data: Uint8Array; consumed: number } | null {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const chunks: Uint8Array[] = [];
  let p = 0;
  for (;;) {
    if (p + 8 > buf.length) return null;
    const magic = dv.getUint32(p, true);
    if (magic !== RECORDIO_MAGIC) throw new DataError(`${source}: bad RecordIO magic 0x${magic.toString(16)} (expected 0xced7230a); the .rec is corrupt or the .idx does not belong to it`);
    const lrec = dv.getUint32(p + 4, true);
    const cflag = lrec >>> 29;
    const len = lrec & (MAX_RECORD - 1);
    const padded = (len + 3) & ~3;
    if (p + 8 + len > buf.length) return null;
    chunks.push(buf.subarray(p + 8, p + 8 + len));
    p += 8 + padded;
    if (cflag === 0 || cflag === 3) break;
    chunks.push(new Uint8Array([0x0a, 0x23, 0xd7, 0xce])); // the magic word the writer split on
  }
  const consumed = Math.min(p, buf.length);
  if (chunks.length === 1) return { data: chunks[0]!, consumed };
  const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  return { data, consumed };
}

/** tryUnframeRecord that treats a short buffer as a truncated file. */
export function unframeRecord(buf: Uint8Array, source: string): { data: Uint8Array; consumed: number } {
  const r = tryUnframeRecord(buf, source);
  if (!r) throw new DataError(`${source}: the record runs past the end of the file (truncated .rec?). Re-download or re-copy it.`);
  return r;
}

/** Parse .idx text ("key\toffset" per line). */
export function parseIdx(text: string, idxPath: string): { keys: Float64Array; offsets: Float64Array } {
  const lines = text.split('\n');
  const keys: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const m = /^(\d+)\s+(\d+)$/.exec(line);
    if (!m) throw new DataError(`${idxPath}:${i + 1}: expected "key<TAB>offset", got "${line.slice(0, 60)}"; the .idx is corrupt or not a RecordIO index`, idxPath);
    keys.push(Number(m[1]));
    offsets.push(Number(m[2]));
  }
  if (!keys.length) throw new DataError(`${idxPath}: the index is empty; rebuild it with \`facet data reindex <file.rec>\``, idxPath);
  return { keys: Float64Array.from(keys), offsets: Float64Array.from(offsets) };
}

/** An indexed RecordIO file (MXIndexedRecordIO): random access to records by key. */
export class RecordIOFile {
  private readonly fd: number;
  private readonly byKey: Map<number, number> | null;
  private readonly firstKey: number;
  /** Byte length of each record's extent (distance to the next record in the file). */
  private readonly extents: Float64Array;
  readonly fileSize: number;

  private constructor(
    readonly recPath: string,
    readonly idxPath: string,
    readonly keys: Float64Array,
    readonly offsets: Float64Array,
  ) {
    this.fileSize = statSync(recPath).size;
    // keys 0..N-1 in order (insightface, im2rec) need no map
    let contiguous = true;
    for (let i = 1; i < keys.length; i++) if (keys[i] !== keys[0]! + i) contiguous = false;
    this.firstKey = keys[0]!;
    this.byKey = contiguous ? null : new Map(Array.from(keys, (k, i) => [k, i]));
    const order = Array.from(offsets.keys()).sort((a, b) => offsets[a]! - offsets[b]!);
    this.extents = new Float64Array(keys.length);
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      const end = j + 1 < order.length ? offsets[order[j + 1]!]! : this.fileSize;
      this.extents[i] = end - offsets[i]!;
    }
    const last = order[order.length - 1]!;
    if (offsets[last]! + 8 > this.fileSize) {
      throw new DataError(
        `${recPath}: truncated: ${idxPath} places record ${keys[last]} at byte ${offsets[last]} but the file has ${this.fileSize} bytes. Re-download or re-copy the .rec.`,
        recPath,
      );
    }
    this.fd = openSync(recPath, 'r');
  }

  /** Open `recPath` with its index (default: the .idx next to it). */
  static async open(recPath: string, idxPath = idxPathFor(recPath)): Promise<RecordIOFile> {
    if (!existsSync(recPath)) throw new DataError(`${recPath}: no such file`, recPath);
    if (!existsSync(idxPath)) {
      throw new DataError(
        `${idxPath}: missing; ${recPath} needs its index (key<TAB>offset lines) next to it. Copy the .idx from the dataset archive, or rebuild it with \`facet data reindex ${recPath}\`.`,
        idxPath,
      );
    }
    const { keys, offsets } = parseIdx(await readFile(idxPath, 'utf8'), idxPath);
    return new RecordIOFile(recPath, idxPath, keys, offsets);
  }

  get size(): number {
    return this.keys.length;
  }

  has(key: number): boolean {
    return this.slot(key) >= 0;
  }

  private slot(key: number): number {
    if (this.byKey) return this.byKey.get(key) ?? -1;
    const i = key - this.firstKey;
    return i >= 0 && i < this.keys.length && Number.isInteger(i) ? i : -1;
  }

  /** The unframed payload of record `key`. */
  async read(key: number): Promise<Uint8Array> {
    const i = this.slot(key);
    if (i < 0) throw new DataError(`${this.recPath}: no record with key ${key} in ${this.idxPath}`, this.recPath);
    const extent = this.extents[i]!;
    const src = `${this.recPath} record ${key}`;
    // the extent is exact for well-formed files; read a bounded first chunk in case the .idx has gaps
    const first = Math.min(extent, 1 << 20);
    const buf = Buffer.allocUnsafe(first);
    const { bytesRead } = await readAt(this.fd, buf, 0, first, this.offsets[i]!);
    const rec = tryUnframeRecord(buf.subarray(0, bytesRead), src);
    if (rec) return rec.data;
    if (first === extent) return unframeRecord(buf.subarray(0, bytesRead), src).data;
    const full = Buffer.allocUnsafe(Math.min(extent, MAX_RECORD + 4096));
    const r2 = await readAt(this.fd, full, 0, full.length, this.offsets[i]!);
    return unframeRecord(full.subarray(0, r2.bytesRead), src).data;
  }

  /** Only the IRHeader of record `key` (reads at most 8 + 24 + 4·maxLabels bytes). */
  async readHeader(key: number, maxLabels = 8): Promise<IRHeader> {
    const i = this.slot(key);
    if (i < 0) throw new DataError(`${this.recPath}: no record with key ${key} in ${this.idxPath}`, this.recPath);
    const len = Math.min(this.extents[i]!, 8 + IR_HEADER_SIZE + 4 * maxLabels);
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await readAt(this.fd, buf, 0, len, this.offsets[i]!);
    const src = `${this.recPath} record ${key}`;
    const dv = new DataView(buf.buffer, buf.byteOffset, bytesRead);
    if (bytesRead < 8 + IR_HEADER_SIZE || dv.getUint32(0, true) !== RECORDIO_MAGIC) {
      // fall back to the full reader for its precise error (or a split record)
      return unpackIRRecord(await this.read(key), src).header;
    }
    const lrec = dv.getUint32(4, true);
    const plen = lrec & (MAX_RECORD - 1);
    const body = buf.subarray(8, Math.min(bytesRead, 8 + plen));
    const flag = dv.getUint32(8, true);
    if (lrec >>> 29 !== 0 || (flag > 0 && body.length < IR_HEADER_SIZE + 4 * flag)) return unpackIRRecord(await this.read(key), src).header;
    return unpackIRRecord(body, src).header;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Streams records into a .rec and writes the matching .idx on close. */
export class RecordIOWriter {
  private offset = 0;
  private readonly idx: string[] = [];
  private constructor(
    readonly recPath: string,
    readonly idxPath: string,
    private readonly fh: import('node:fs/promises').FileHandle,
  ) {}

  static async create(recPath: string, idxPath = idxPathFor(recPath)): Promise<RecordIOWriter> {
    try {
      return new RecordIOWriter(recPath, idxPath, await openFile(recPath, 'w'));
    } catch (e) {
      throw new DataError(`${recPath}: cannot create (${reason(e)}); check that the folder exists and is writable`, recPath);
    }
  }

  /** Append one record (already packed with packIRRecord, or any bytes) under `key`. */
  async write(key: number, data: Uint8Array): Promise<void> {
    const framed = frameRecord(data);
    await this.fh.write(framed, 0, framed.length, this.offset);
    this.idx.push(`${key}\t${this.offset}`);
    this.offset += framed.length;
  }

  async close(): Promise<void> {
    await this.fh.close();
    await writeFile(this.idxPath, this.idx.join('\n') + '\n');
  }
}

/** Write records to recPath (+ .idx): a convenience over RecordIOWriter. */
export async function writeRecordIO(recPath: string, records: Iterable<{ key: number; data: Uint8Array }> | AsyncIterable<{ key: number; data: Uint8Array }>): Promise<{ records: number; bytes: number }> {
  const w = await RecordIOWriter.create(recPath);
  let n = 0;
  try {
    for await (const r of records) {
      await w.write(r.key, r.data);
      n++;
    }
  } finally {
    await w.close();
  }
  return { records: n, bytes: statSync(recPath).size };
}

/** Open an indexed .rec for random access (keys, read(key), readHeader(key)). */
export function readRecordIO(recPath: string, idxPath?: string): Promise<RecordIOFile> {
  return RecordIOFile.open(recPath, idxPath);
}

/**
 * Rebuild a missing .idx by scanning the .rec sequentially; the key of each record is its IRHeader id (what
 * im2rec and insightface's packers store), or its ordinal when ids repeat. Returns the number of records.
 */
export async function buildRecordIOIndex(recPath: string, idxPath = idxPathFor(recPath)): Promise<number> {
  if (!existsSync(recPath)) throw new DataError(`${recPath}: no such file`, recPath);
  const lines: Array<[number, number]> = [];
  let pending = new Uint8Array(0);
  let base = 0; // file offset of pending[0]
  const stream = createReadStream(recPath, { highWaterMark: 1 << 22 });
  const ids = new Set<number>();
  let unique = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const merged = new Uint8Array(pending.length + chunk.length);
    merged.set(pending);
    merged.set(chunk, pending.length);
    let p = 0;
    for (;;) {
      const rec = tryUnframeRecord(merged.subarray(p), `${recPath} at byte ${base + p}`);
      if (!rec) break; // need more bytes
      const { header } = unpackIRRecord(rec.data, `${recPath} at byte ${base + p}`);
      if (ids.has(header.id)) unique = false;
      ids.add(header.id);
      lines.push([header.id, base + p]);
      p += rec.consumed;
    }
    pending = merged.slice(p);
    base += p;
  }
  if (pending.length) throw new DataError(`${recPath}: ${pending.length} trailing bytes do not form a record; the file is truncated`, recPath);
  const text = lines.map(([id, off], i) => `${unique ? id : i}\t${off}`).join('\n') + '\n';
  await writeFile(idxPath, text);
  return lines.length;
}
