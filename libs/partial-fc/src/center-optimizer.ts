// Host-side optimizer for the sampled class centres. Semantics of insightface Partial FC v1 (arcface_torch before
// ab27f4d6, PartialFC / PartialFCAdamW): only the rows sampled this step are updated, momentum / Adam moments of the
// other rows stay frozen (no weight decay, no momentum drift), and AdamW's bias correction uses the module's global
// step count. Partial FC v2 instead steps every row each iteration (grad 0 + weight decay + momentum on unsampled
// rows), which would touch all C×D centres (and their state) every step: exactly the O(C) host traffic Partial FC
// exists to avoid. With sampleRate = 1 the two agree.
import type { ClassCenterStore } from './class-center-store.js';
import { DiskClassCenterStore } from './disk-center-store.js';
import { fromHalf, toHalf } from './fp16.js';

export type CenterOptimizerOptions =
  | { type: 'sgd'; lr: number; momentum?: number; weightDecay?: number }
  | { type: 'adamw'; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

export type ResolvedCenterOptimizer =
  | { type: 'sgd'; lr: number; momentum: number; weightDecay: number }
  | { type: 'adamw'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

/** insightface defaults: SGD lr 0.1, momentum 0.9, weight decay 5e-4; AdamW (ViT configs) lr 1e-3, wd 0.1. */
export const DEFAULT_CENTER_OPTIMIZER: ResolvedCenterOptimizer = { type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };

function num(where: string, key: string, v: unknown, lo: number, hi: number, loOpen = false, hiOpen = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) {
    throw new Error(`${where}: optimizer.${key}=${String(v)} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}.`);
  }
  return v as number;
}

export function resolveCenterOptimizer(o: CenterOptimizerOptions | undefined, where = 'PartialFC'): ResolvedCenterOptimizer {
  if (o === undefined) return { ...DEFAULT_CENTER_OPTIMIZER };
  if (o === null || typeof o !== 'object') throw new Error(`${where}: optimizer must be { type: 'sgd' | 'adamw', lr, ... }.`);
  const lr = num(where, 'lr', o.lr, 0, Infinity);
  if (o.type === 'sgd') {
    return {
      type: 'sgd',
      lr,
      momentum: num(where, 'momentum', o.momentum ?? 0.9, 0, 1, false, true),
      weightDecay: num(where, 'weightDecay', o.weightDecay ?? 5e-4, 0, Infinity),
    };
  }
  if (o.type === 'adamw') {
    return {
      type: 'adamw',
      lr,
      beta1: num(where, 'beta1', o.beta1 ?? 0.9, 0, 1, false, true),
      beta2: num(where, 'beta2', o.beta2 ?? 0.999, 0, 1, false, true),
      eps: num(where, 'eps', o.eps ?? 1e-8, 0, Infinity, true),
      weightDecay: num(where, 'weightDecay', o.weightDecay ?? 0.1, 0, Infinity),
    };
  }
  throw new Error(`${where}: optimizer.type='${String((o as { type?: unknown }).type)}' must be 'sgd' or 'adamw'.`);
}

/** Optimizer state kept per centre row. */
export function optimizerSlots(o: ResolvedCenterOptimizer): string[] {
  if (o.type === 'adamw') return ['expAvg', 'expAvgSq'];
  return o.momentum > 0 ? ['momentum'] : [];
}

/**
 * Apply one update to the rows `indices` (ascending or not) with their gradients `grad` (row i of grad belongs to
 * indices[i]). `step` is the 1-based global step count (AdamW bias correction). `gathered` (optional): the rows of
 * `indices` as the store holds them now (Partial FC's forward read them); a disk-backed store then updates them in
 * place in that buffer instead of reading them again.
 *   SGD (torch):  d = g + wd·w;  buf = μ·buf + d;  w −= lr·buf        (buf starts at 0)
 *   AdamW (torch, Loshchilov & Hutter): w ← w·(1 − lr·wd); m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 *                 w −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)
 */
export function applyCenterUpdate(
  store: ClassCenterStore | DiskClassCenterStore,
  indices: Int32Array,
  grad: Float32Array,
  o: ResolvedCenterOptimizer,
  lr: number,
  step: number,
  gathered?: Float32Array,
): void {
  if (store instanceof DiskClassCenterStore) {
    applyDiskUpdate(store, indices, grad, o, lr, step, gathered);
    return;
  }
  const L = store.rowLength;
  const half = store.storage === 'float16';
  const row = new Float32Array(L);
  const mom = o.type === 'sgd' && o.momentum > 0 ? store.slot('momentum') : undefined;
  const m1 = o.type === 'adamw' ? store.slot('expAvg') : undefined;
  const m2 = o.type === 'adamw' ? store.slot('expAvgSq') : undefined;
  for (let i = 0; i < indices.length; i++) {
    const { shard, offset } = store.locate(indices[i]!);
    const w = store.shards[shard]!;
    if (half) for (let j = 0; j < L; j++) row[j] = fromHalf((w as Uint16Array)[offset + j]!);
    else row.set((w as Float32Array).subarray(offset, offset + L));
    const s1 = mom?.[shard] ?? m1?.[shard];
    updateRow(row, 0, grad, i * L, L, o, lr, step, s1, m2?.[shard], offset);
    if (half) for (let j = 0; j < L; j++) (w as Uint16Array)[offset + j] = toHalf(row[j]!);
    else (w as Float32Array).set(row, offset);
  }
}

/** Rows per read-update-write round of a disk-backed store (bounds the staging memory: 16 MiB of rows at D = 512). */
const DISK_UPDATE_ROWS = 8192;

/**
 * The disk-backed store: rows and their optimizer state are read in rounds of consecutive sampled positions,
 * updated with the same per-row arithmetic as in memory (so both stores give bit-identical results), written back.
 */
function applyDiskUpdate(
  store: DiskClassCenterStore,
  indices: Int32Array,
  grad: Float32Array,
  o: ResolvedCenterOptimizer,
  lr: number,
  step: number,
  gathered: Float32Array | undefined,
): void {
  const L = store.rowLength;
  const names = optimizerSlots(o);
  const rows = Math.min(indices.length, DISK_UPDATE_ROWS);
  const scratch = gathered ? undefined : new Float32Array(rows * L);
  const slots = names.map(() => new Float32Array(rows * L));
  for (let lo = 0; lo < indices.length; lo += DISK_UPDATE_ROWS) {
    const part = indices.subarray(lo, Math.min(indices.length, lo + DISK_UPDATE_ROWS));
    const n = part.length * L;
    const w = gathered ? gathered.subarray(lo * L, lo * L + n) : store.gatherRows(part, scratch);
    names.forEach((name, k) => store.gatherSlotRows(name, part, slots[k]));
    for (let i = 0; i < part.length; i++) updateRow(w, i * L, grad, (lo + i) * L, L, o, lr, step, slots[0], slots[1], i * L);
    store.scatterRows(part, w.subarray(0, n));
    names.forEach((name, k) => store.scatterSlotRows(name, part, slots[k]!.subarray(0, n)));
  }
}

/**
 * One row in place: w[wOff, wOff+L) with gradient g[gOff, …) and optimizer state s1 (SGD momentum or Adam m) and s2
 * (Adam v) at sOff.
 */
function updateRow(
  w: Float32Array,
  wOff: number,
  g: Float32Array,
  gOff: number,
  L: number,
  o: ResolvedCenterOptimizer,
  lr: number,
  step: number,
  s1: Float32Array | undefined,
  s2: Float32Array | undefined,
  sOff: number,
): void {
  if (o.type === 'sgd') {
    const wd = o.weightDecay;
    if (o.momentum > 0) {
      const buf = s1!;
      const mu = o.momentum;
      for (let j = 0; j < L; j++) {
        const b = mu * buf[sOff + j]! + g[gOff + j]! + wd * w[wOff + j]!;
        buf[sOff + j] = b;
        w[wOff + j] = w[wOff + j]! - lr * b;
      }
    } else for (let j = 0; j < L; j++) w[wOff + j] = w[wOff + j]! - lr * (g[gOff + j]! + wd * w[wOff + j]!);
    return;
  }
  const ea = s1!;
  const es = s2!;
  const { beta1, beta2, eps } = o;
  const decay = 1 - lr * o.weightDecay;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2 = Math.sqrt(1 - beta2 ** step);
  for (let j = 0; j < L; j++) {
    const gj = g[gOff + j]!;
    const a = beta1 * ea[sOff + j]! + (1 - beta1) * gj;
    const v = beta2 * es[sOff + j]! + (1 - beta2) * gj * gj;
    ea[sOff + j] = a;
    es[sOff + j] = v;
    w[wOff + j] = w[wOff + j]! * decay - (stepSize * a) / (Math.sqrt(v) / bc2 + eps);
  }
}
