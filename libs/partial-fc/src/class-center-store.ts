// All class centres (and their optimizer state) in host memory, outside the engine. Partial FC uploads only the
// rows sampled for a step and writes only those back, so the number of classes is bounded by host RAM, not by the
// 4 GiB wasm heap. Storage is split into fixed-size shards (≤ 256 MiB each) so no single allocation approaches V8's
// typed-array limits, and a class row (K sub-centres × D floats) never straddles two shards.
import { fromHalf, halfTable, toHalf } from './fp16.js';
import { Xoshiro128 } from './rng.js';

export type CenterStorage = 'float32' | 'float16';

/** What both stores hold: the shape of the centres, their element type, optimizer slots and initialisation. */
export interface CenterStoreLayout {
  numClasses: number;
  embeddingSize: number;
  /** Sub-centres per class (Sub-center ArcFace K). Default 1. */
  subCenters?: number;
  /** Element type of the centres. float16 halves host memory; updates are rounded to nearest. Default float32. */
  storage?: CenterStorage;
  /** Names of per-row optimizer slots kept alongside (always float32), e.g. ['momentum']. */
  slots?: readonly string[];
  /** Standard deviation of the N(0, σ²) initialisation (insightface: 0.01). */
  initStd?: number;
  seed?: number;
}

export interface ClassCenterStoreOptions extends CenterStoreLayout {
  /** Upper bound of one storage shard in bytes (default 256 MiB); tests use small values. */
  maxShardBytes?: number;
}

export const DEFAULT_MAX_SHARD_BYTES = 256 * 1024 * 1024;

export class ClassCenterStore {
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly subCenters: number;
  readonly storage: CenterStorage;
  /** Floats per class row: subCenters × embeddingSize. */
  readonly rowLength: number;
  /** Class rows per storage shard (the last shard may hold fewer). */
  readonly rowsPerShard: number;
  /** The centres, shard by shard: class c lives in shards[⌊c/rowsPerShard⌋] at row c mod rowsPerShard. */
  readonly shards: Array<Float32Array | Uint16Array>;
  /** Optimizer state, same sharding as `shards`, float32. */
  readonly slots: ReadonlyMap<string, Float32Array[]>;

  constructor(opts: ClassCenterStoreOptions) {
    const { numClasses, embeddingSize } = opts;
    const subCenters = opts.subCenters ?? 1;
    for (const [k, v] of Object.entries({ numClasses, embeddingSize, subCenters })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`ClassCenterStore: ${k}=${String(v)} must be a positive integer.`);
    }
    const storage = opts.storage ?? 'float32';
    if (storage !== 'float32' && storage !== 'float16') {
      throw new Error(`ClassCenterStore: storage='${String(storage)}' must be 'float32' or 'float16'.`);
    }
    const initStd = opts.initStd ?? 0.01;
    if (!(initStd >= 0) || !Number.isFinite(initStd)) throw new Error(`ClassCenterStore: initStd=${initStd} must be a finite number ≥ 0.`);
    this.numClasses = numClasses;
    this.embeddingSize = embeddingSize;
    this.subCenters = subCenters;
    this.storage = storage;
    this.rowLength = subCenters * embeddingSize;
    const maxBytes = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
    // sized by the float32 row so weights and float32 slots share one row → (shard, offset) mapping
    this.rowsPerShard = Math.max(1, Math.min(numClasses, Math.floor(maxBytes / (this.rowLength * 4))));
    const seed = opts.seed ?? 2048;
    this.shards = [];
    const slots = new Map<string, Float32Array[]>();
    for (const name of opts.slots ?? []) slots.set(name, []);
    for (let start = 0, i = 0; start < numClasses; start += this.rowsPerShard, i++) {
      const rows = Math.min(this.rowsPerShard, numClasses - start);
      const n = rows * this.rowLength;
      // one independent stream per shard: the initial values do not depend on the shard size's history
      const rng = new Xoshiro128((seed * 0x9e3779b1 + i * 0x85ebca6b) >>> 0);
      if (storage === 'float32') {
        const a = new Float32Array(n);
        for (let j = 0; j < n; j++) a[j] = initStd * rng.nextNormal();
        this.shards.push(a);
      } else {
        const a = new Uint16Array(n);
        for (let j = 0; j < n; j++) a[j] = toHalf(initStd * rng.nextNormal());
        this.shards.push(a);
      }
      for (const list of slots.values()) list.push(new Float32Array(n));
    }
    this.slots = slots;
  }

  /** Bytes held in host memory (centres + optimizer slots). */
  get hostBytes(): number {
    const per = this.storage === 'float32' ? 4 : 2;
    return this.numClasses * this.rowLength * (per + 4 * this.slots.size);
  }

  /** Where class c's row starts: shard index and element offset inside it. */
  locate(c: number): { shard: number; offset: number } {
    const shard = Math.floor(c / this.rowsPerShard);
    return { shard, offset: (c - shard * this.rowsPerShard) * this.rowLength };
  }

  private checkIndices(indices: ArrayLike<number>, what: string): void {
    for (let i = 0; i < indices.length; i++) {
      const c = indices[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.numClasses) {
        throw new Error(`ClassCenterStore.${what}: index ${c} at position ${i} is outside [0, ${this.numClasses}).`);
      }
    }
  }

  /** Copy the rows of `indices` (as float32, in the given order) into `out` (allocated when absent). */
  gatherRows(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    this.checkIndices(indices, 'gatherRows');
    const L = this.rowLength;
    const dst = out ?? new Float32Array(indices.length * L);
    if (dst.length < indices.length * L) throw new Error(`ClassCenterStore.gatherRows: out holds ${dst.length} floats, needs ${indices.length * L}.`);
    const half = this.storage === 'float16' ? halfTable() : undefined;
    for (let i = 0; i < indices.length; i++) {
      const { shard, offset } = this.locate(indices[i]!);
      const src = this.shards[shard]!;
      if (half) {
        const h = src as Uint16Array;
        for (let j = 0; j < L; j++) dst[i * L + j] = half[h[offset + j]!]!;
      } else dst.set((src as Float32Array).subarray(offset, offset + L), i * L);
    }
    return dst;
  }

  /** Overwrite the rows of `indices` with `rows` (float32, same order; rounded when stored as float16). */
  scatterRows(indices: ArrayLike<number>, rows: Float32Array): void {
    this.checkIndices(indices, 'scatterRows');
    const L = this.rowLength;
    if (rows.length < indices.length * L) throw new Error(`ClassCenterStore.scatterRows: rows hold ${rows.length} floats, needs ${indices.length * L}.`);
    for (let i = 0; i < indices.length; i++) {
      const { shard, offset } = this.locate(indices[i]!);
      const dst = this.shards[shard]!;
      if (this.storage === 'float16') {
        for (let j = 0; j < L; j++) (dst as Uint16Array)[offset + j] = toHalf(rows[i * L + j]!);
      } else (dst as Float32Array).set(rows.subarray(i * L, (i + 1) * L), offset);
    }
  }

  /** One class row as float32 (a copy). */
  readRow(c: number): Float32Array {
    return this.gatherRows([c]);
  }

  /** Optimizer slot shards by name (throws for an unknown slot). */
  slot(name: string): Float32Array[] {
    const s = this.slots.get(name);
    if (!s) throw new Error(`ClassCenterStore: no optimizer slot '${name}' (have: ${[...this.slots.keys()].join(', ') || 'none'}).`);
    return s;
  }

  /** All centres as one flat float32 array [C, K, D] (a copy; float16 storage is decoded). */
  exportWeights(): Float32Array {
    const out = new Float32Array(this.numClasses * this.rowLength);
    let pos = 0;
    for (const s of this.shards) {
      if (s instanceof Float32Array) out.set(s, pos);
      else for (let j = 0; j < s.length; j++) out[pos + j] = fromHalf(s[j]!);
      pos += s.length;
    }
    return out;
  }

  /** Replace all centres from a flat float32 array [C, K, D]. */
  importWeights(all: Float32Array): void {
    const n = this.numClasses * this.rowLength;
    if (!(all instanceof Float32Array) || all.length !== n) {
      throw new Error(`ClassCenterStore: weights must be a Float32Array of ${n} values (classes ${this.numClasses} × ${this.subCenters} × ${this.embeddingSize}); got ${describe(all)}.`);
    }
    let pos = 0;
    for (const s of this.shards) {
      if (s instanceof Float32Array) s.set(all.subarray(pos, pos + s.length));
      else for (let j = 0; j < s.length; j++) s[j] = toHalf(all[pos + j]!);
      pos += s.length;
    }
  }

  /** One optimizer slot as a flat float32 array (a copy). */
  exportSlot(name: string): Float32Array {
    const out = new Float32Array(this.numClasses * this.rowLength);
    let pos = 0;
    for (const s of this.slot(name)) {
      out.set(s, pos);
      pos += s.length;
    }
    return out;
  }

  /** Replace one optimizer slot from a flat array, or zero it when `all` is undefined. */
  importSlot(name: string, all: Float32Array | undefined): void {
    const n = this.numClasses * this.rowLength;
    const shards = this.slot(name);
    if (all === undefined) {
      for (const s of shards) s.fill(0);
      return;
    }
    if (!(all instanceof Float32Array) || all.length !== n) {
      throw new Error(`ClassCenterStore: optimizer slot '${name}' must be a Float32Array of ${n} values; got ${describe(all)}.`);
    }
    let pos = 0;
    for (const s of shards) {
      s.set(all.subarray(pos, pos + s.length));
      pos += s.length;
    }
  }
}

function describe(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  return String(v);
}
