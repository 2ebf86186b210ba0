// Class centres (and optimizer state) in files instead of host arrays: one file of [C, K·D] rows per array (fp16 or
// fp32 centres, fp32 optimizer slots), read and written by sampled index with positioned reads/writes (pread/pwrite).
// The OS page cache does the caching: hot rows stay in RAM without counting against the process's RSS, and the
// kernel evicts cold ones under memory pressure instead of the process dying. This is what lets C = 10⁷ classes ×
// 512 dims (20 GB of fp32 centres + 20 GB of momentum) train on a 24 GiB machine at sample rates 0.01–0.1.
//
// Initialisation is lazy: a 10⁷-class store would otherwise write 10–20 GB before its first step. Row c starts as
// N(0, initStd²) drawn from its own stream (seeded by seed and c), produced the first time the row is read and
// written to the file the first time the row is updated; an in-memory bitmap (persisted on flush/close) records
// which rows the file holds. Slots start at 0, which is what a never-written (sparse) region of a file reads as.
// The values differ from ClassCenterStore's (which draws one stream per 256 MiB shard); both are N(0, σ²) i.i.d.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync, fsyncSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { CenterStorage, CenterStoreLayout } from './class-center-store.js';
import { halfTable, toHalf } from './fp16.js';
import { Xoshiro128 } from './rng.js';

/** `storage` is the element type of the centre file; optimizer slots are always float32 files. */
export interface DiskCenterStoreOptions extends CenterStoreLayout {
  /** Directory holding the store's files (created if missing). */
  directory: string;
  /**
   * 'create' (default): start a new store, replacing the files of any previous one in the directory.
   * 'open': continue the store found there (its meta.json must match these options).
   */
  mode?: 'create' | 'open';
}

const FORMAT = 'facet-class-centers/1';
/** Rows per positioned read or write at most (bounds the staging buffers: 4096 rows × 2 KiB = 8 MiB at D = 512). */
const MAX_RUN_ROWS = 4096;

interface Meta {
  format: string;
  numClasses: number;
  embeddingSize: number;
  subCenters: number;
  storage: CenterStorage;
  slots: string[];
  initStd: number;
  seed: number;
}

/** Seed of row c's initial values: independent of every other row, so rows can be drawn in any order. */
function rowSeed(seed: number, c: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b) ^ ((c / 4294967296) | 0)) >>> 0;
}

export class DiskClassCenterStore {
  readonly directory: string;
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly subCenters: number;
  readonly storage: CenterStorage;
  readonly rowLength: number;
  readonly initStd: number;
  readonly seed: number;
  readonly slotNames: readonly string[];
  private readonly centerFd: number;
  private readonly slotFds = new Map<string, number>();
  /** Bit c set ⇔ the centre file holds row c (otherwise the row is its lazy initial value). */
  private readonly written: Uint8Array;
  private closed = false;

  constructor(opts: DiskCenterStoreOptions) {
    if (opts == null || typeof opts !== 'object') throw new Error('DiskClassCenterStore: options { directory, numClasses, embeddingSize } are required.');
    const { numClasses, embeddingSize } = opts;
    const subCenters = opts.subCenters ?? 1;
    for (const [k, v] of Object.entries({ numClasses, embeddingSize, subCenters })) {
      if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`DiskClassCenterStore: ${k}=${String(v)} must be a positive integer.`);
    }
    if (typeof opts.directory !== 'string' || opts.directory === '') {
      throw new Error('DiskClassCenterStore: directory must be a path to a folder for the centre files (e.g. a fast local disk).');
    }
    const storage = opts.storage ?? 'float32';
    if (storage !== 'float32' && storage !== 'float16') throw new Error(`DiskClassCenterStore: storage='${String(storage)}' must be 'float32' or 'float16'.`);
    const initStd = opts.initStd ?? 0.01;
    if (!(initStd >= 0) || !Number.isFinite(initStd)) throw new Error(`DiskClassCenterStore: initStd=${initStd} must be a finite number ≥ 0.`);
    const mode = opts.mode ?? 'create';
    if (mode !== 'create' && mode !== 'open') throw new Error(`DiskClassCenterStore: mode='${String(mode)}' must be 'create' or 'open'.`);
    this.directory = opts.directory;
    this.numClasses = numClasses;
    this.embeddingSize = embeddingSize;
    this.subCenters = subCenters;
    this.storage = storage;
    this.rowLength = subCenters * embeddingSize;
    this.initStd = initStd;
    this.seed = opts.seed ?? 2048;
    this.slotNames = [...(opts.slots ?? [])];
    const meta: Meta = { format: FORMAT, numClasses, embeddingSize, subCenters, storage, slots: [...this.slotNames], initStd, seed: this.seed };

    mkdirSync(this.directory, { recursive: true });
    const metaPath = join(this.directory, 'meta.json');
    this.written = new Uint8Array(Math.ceil(numClasses / 8));
    if (mode === 'open') {
      if (!existsSync(metaPath)) throw new Error(`DiskClassCenterStore: no store in ${this.directory} (meta.json missing); use mode 'create' to start one.`);
      const found = JSON.parse(readFileSync(metaPath, 'utf8')) as Meta;
      for (const k of Object.keys(meta) as Array<keyof Meta>) {
        if (JSON.stringify(found[k]) !== JSON.stringify(meta[k])) {
          throw new Error(`DiskClassCenterStore: the store in ${this.directory} has ${k}=${JSON.stringify(found[k])}, these options ${JSON.stringify(meta[k])}.`);
        }
      }
      const bits = readFileSync(join(this.directory, 'written.bits'));
      if (bits.length !== this.written.length) throw new Error(`DiskClassCenterStore: ${this.directory}/written.bits has ${bits.length} bytes, expected ${this.written.length}.`);
      this.written.set(bits);
    }
    const flag = mode === 'open' ? 'r+' : 'w+';
    const bytes = (per: number) => numClasses * this.rowLength * per;
    this.centerFd = openSync(this.centerPath(), flag);
    if (mode === 'create') ftruncateSync(this.centerFd, bytes(storage === 'float32' ? 4 : 2)); // sparse: no blocks yet
    for (const name of this.slotNames) {
      const fd = openSync(join(this.directory, `slot-${name}.f32`), flag);
      if (mode === 'create') ftruncateSync(fd, bytes(4));
      this.slotFds.set(name, fd);
    }
    if (mode === 'create') {
      writeFileSync(metaPath, JSON.stringify(meta, null, 2));
      this.flush();
    }
  }

  private centerPath(): string {
    return join(this.directory, this.storage === 'float32' ? 'centers.f32' : 'centers.f16');
  }

  /** Bytes held in host memory: the written-rows bitmap (the rows themselves live in files and the page cache). */
  get hostBytes(): number {
    return this.written.length;
  }

  /** Logical size of the files (sparse: blocks are allocated only for rows written so far). */
  get fileBytes(): number {
    return this.numClasses * this.rowLength * ((this.storage === 'float32' ? 4 : 2) + 4 * this.slotNames.length);
  }

  private check(indices: ArrayLike<number>, what: string): void {
    if (this.closed) throw new Error(`DiskClassCenterStore.${what}: the store was closed.`);
    for (let i = 0; i < indices.length; i++) {
      const c = indices[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.numClasses) {
        throw new Error(`DiskClassCenterStore.${what}: index ${c} at position ${i} is outside [0, ${this.numClasses}).`);
      }
    }
  }

  private isWritten(c: number): boolean {
    return (this.written[c >>> 3]! & (1 << (c & 7))) !== 0;
  }

  /** Row c's initial values (float32, or the float16 rounding of them when the store is float16). */
  private initialRow(c: number, dst: Float32Array, at: number): void {
    const rng = new Xoshiro128(rowSeed(this.seed, c));
    const L = this.rowLength;
    const half = this.storage === 'float16' ? halfTable() : undefined;
    for (let j = 0; j < L; j++) {
      const v = this.initStd * rng.nextNormal();
      dst[at + j] = half ? half[toHalf(v)]! : v;
    }
  }

  /**
   * Runs of consecutive classes in `indices` (positions [i, j) with indices[k+1] = indices[k] + 1), at most
   * MAX_RUN_ROWS long: each is one positioned read or write.
   */
  private static runs(indices: ArrayLike<number>, visit: (i: number, j: number) => void): void {
    for (let i = 0; i < indices.length; ) {
      let j = i + 1;
      while (j < indices.length && j - i < MAX_RUN_ROWS && indices[j] === indices[j - 1]! + 1) j++;
      visit(i, j);
      i = j;
    }
  }

  private readRuns(fd: number, elementBytes: 2 | 4, indices: ArrayLike<number>, dst: Float32Array): void {
    const L = this.rowLength;
    const half = elementBytes === 2 ? halfTable() : undefined;
    const staging = half ? new Uint16Array(Math.min(indices.length, MAX_RUN_ROWS) * L) : undefined;
    DiskClassCenterStore.runs(indices, (i, j) => {
      const n = (j - i) * L;
      const position = indices[i]! * L * elementBytes;
      const target = staging ? new Uint8Array(staging.buffer, 0, n * 2) : new Uint8Array(dst.buffer, dst.byteOffset + i * L * 4, n * 4);
      let done = 0;
      while (done < target.length) {
        const got = readSync(fd, target, done, target.length - done, position + done);
        if (got === 0) throw new Error(`DiskClassCenterStore: short read in ${this.directory} at byte ${position + done} (file truncated?).`);
        done += got;
      }
      if (staging) for (let k = 0; k < n; k++) dst[i * L + k] = half![staging[k]!]!;
    });
  }

  private writeRuns(fd: number, elementBytes: 2 | 4, indices: ArrayLike<number>, src: Float32Array): void {
    const L = this.rowLength;
    const staging = elementBytes === 2 ? new Uint16Array(Math.min(indices.length, MAX_RUN_ROWS) * L) : undefined;
    DiskClassCenterStore.runs(indices, (i, j) => {
      const n = (j - i) * L;
      const position = indices[i]! * L * elementBytes;
      if (staging) for (let k = 0; k < n; k++) staging[k] = toHalf(src[i * L + k]!);
      const bytes = staging ? new Uint8Array(staging.buffer, 0, n * 2) : new Uint8Array(src.buffer, src.byteOffset + i * L * 4, n * 4);
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
    });
  }

  /** Copy the rows of `indices` (as float32, in the given order) into `out` (allocated when absent). */
  gatherRows(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    this.check(indices, 'gatherRows');
    const L = this.rowLength;
    const dst = out ?? new Float32Array(indices.length * L);
    if (dst.length < indices.length * L) throw new Error(`DiskClassCenterStore.gatherRows: out holds ${dst.length} floats, needs ${indices.length * L}.`);
    this.readRuns(this.centerFd, this.storage === 'float32' ? 4 : 2, indices, dst);
    for (let i = 0; i < indices.length; i++) if (!this.isWritten(indices[i]!)) this.initialRow(indices[i]!, dst, i * L);
    return dst;
  }

  /** Overwrite the rows of `indices` with `rows` (float32, same order; rounded when stored as float16). */
  scatterRows(indices: ArrayLike<number>, rows: Float32Array): void {
    this.check(indices, 'scatterRows');
    if (rows.length < indices.length * this.rowLength) {
      throw new Error(`DiskClassCenterStore.scatterRows: rows hold ${rows.length} floats, needs ${indices.length * this.rowLength}.`);
    }
    this.writeRuns(this.centerFd, this.storage === 'float32' ? 4 : 2, indices, rows);
    for (let i = 0; i < indices.length; i++) this.written[indices[i]! >>> 3]! |= 1 << (indices[i]! & 7);
  }

  private slotFd(name: string): number {
    const fd = this.slotFds.get(name);
    if (fd === undefined) throw new Error(`DiskClassCenterStore: no optimizer slot '${name}' (have: ${this.slotNames.join(', ') || 'none'}).`);
    return fd;
  }

  /** Rows of an optimizer slot (float32). */
  gatherSlotRows(name: string, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    this.check(indices, 'gatherSlotRows');
    const dst = out ?? new Float32Array(indices.length * this.rowLength);
    this.readRuns(this.slotFd(name), 4, indices, dst);
    return dst;
  }

  scatterSlotRows(name: string, indices: ArrayLike<number>, rows: Float32Array): void {
    this.check(indices, 'scatterSlotRows');
    this.writeRuns(this.slotFd(name), 4, indices, rows);
  }

  readRow(c: number): Float32Array {
    return this.gatherRows([c]);
  }

  private allIndices(): Int32Array {
    return Int32Array.from({ length: this.numClasses }, (_, i) => i);
  }

  /** All centres as one flat float32 array [C, K, D] (a copy: only sensible for stores that fit in memory). */
  exportWeights(): Float32Array {
    return this.gatherRows(this.allIndices());
  }

  importWeights(all: Float32Array): void {
    const n = this.numClasses * this.rowLength;
    if (!(all instanceof Float32Array) || all.length !== n) {
      throw new Error(`DiskClassCenterStore: weights must be a Float32Array of ${n} values (classes ${this.numClasses} × ${this.subCenters} × ${this.embeddingSize}).`);
    }
    this.scatterRows(this.allIndices(), all);
  }

  exportSlot(name: string): Float32Array {
    return this.gatherSlotRows(name, this.allIndices());
  }

  /** Replace one optimizer slot from a flat array, or zero it when `all` is undefined. */
  importSlot(name: string, all: Float32Array | undefined): void {
    const n = this.numClasses * this.rowLength;
    const fd = this.slotFd(name);
    if (all === undefined) {
      ftruncateSync(fd, 0);
      ftruncateSync(fd, n * 4);
      return;
    }
    if (!(all instanceof Float32Array) || all.length !== n) {
      throw new Error(`DiskClassCenterStore: optimizer slot '${name}' must be a Float32Array of ${n} values.`);
    }
    this.scatterSlotRows(name, this.allIndices(), all);
  }

  /** Persist the written-rows bitmap (atomically) and fsync the files: the directory is then a consistent checkpoint. */
  flush(): void {
    if (this.closed) return;
    fsyncSync(this.centerFd);
    for (const fd of this.slotFds.values()) fsyncSync(fd);
    const tmp = join(this.directory, 'written.bits.tmp');
    writeFileSync(tmp, this.written);
    renameSync(tmp, join(this.directory, 'written.bits'));
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    closeSync(this.centerFd);
    for (const fd of this.slotFds.values()) closeSync(fd);
    this.closed = true;
  }
}
