// Host-side optimizer for the sampled class centres. Semantics of insightface Partial FC v1 (arcface_torch before
// ab27f4d6, PartialFC / PartialFCAdamW): only the rows sampled this step are updated, momentum / Adam moments of the
// other rows stay frozen (no weight decay, no momentum drift), and AdamW's bias correction uses the module's global
// step count. Partial FC v2 instead steps every row each iteration (grad 0 + weight decay + momentum on unsampled
// rows), which would touch all C×D centres (and their state) every step: exactly the O(C) host traffic Partial FC
// exists to avoid. With sampleRate = 1 the two agree.
import type { ClassCenterStore } from './class-center-store.js';
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
 * indices[i]). `step` is the 1-based global step count (AdamW bias correction).
 *   SGD (torch):  d = g + wd·w;  buf = μ·buf + d;  w −= lr·buf        (buf starts at 0)
 *   AdamW (torch, Loshchilov & Hutter): w ← w·(1 − lr·wd); m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 *                 w −= lr/(1−β1^t) · m / (√v/√(1−β2^t) + eps)
 */
export function applyCenterUpdate(
  store: ClassCenterStore,
  indices: Int32Array,
  grad: Float32Array,
  o: ResolvedCenterOptimizer,
  lr: number,
  step: number,
): void {
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
    const g0 = i * L;
    if (o.type === 'sgd') {
      const wd = o.weightDecay;
      if (mom) {
        const buf = mom[shard]!;
        const mu = o.momentum;
        for (let j = 0; j < L; j++) {
          const b = mu * buf[offset + j]! + grad[g0 + j]! + wd * row[j]!;
          buf[offset + j] = b;
          row[j] = row[j]! - lr * b;
        }
      } else for (let j = 0; j < L; j++) row[j] = row[j]! - lr * (grad[g0 + j]! + wd * row[j]!);
    } else {
      const ea = m1![shard]!;
      const es = m2![shard]!;
      const { beta1, beta2, eps } = o;
      const decay = 1 - lr * o.weightDecay;
      const stepSize = lr / (1 - beta1 ** step);
      const bc2 = Math.sqrt(1 - beta2 ** step);
      for (let j = 0; j < L; j++) {
        const g = grad[g0 + j]!;
        const a = beta1 * ea[offset + j]! + (1 - beta1) * g;
        const s = beta2 * es[offset + j]! + (1 - beta2) * g * g;
        ea[offset + j] = a;
        es[offset + j] = s;
        row[j] = row[j]! * decay - (stepSize * a) / (Math.sqrt(s) / bc2 + eps);
      }
    }
    if (half) for (let j = 0; j < L; j++) (w as Uint16Array)[offset + j] = toHalf(row[j]!);
    else (w as Float32Array).set(row, offset);
  }
}
