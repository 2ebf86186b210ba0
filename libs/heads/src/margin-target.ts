// The target-class logit transform f(cos θ) = cos(m1·θ + m2) − m3 (before the scale s), evaluated on the host in
// float64 together with the slope the backward pass uses. Partial FC combines the shards' softmax on the host and
// needs exactly this per-row value; the engine-side version in margin-logits.ts is its autodiff twin.
import { COS_CLIP_EPS, type ResolvedMarginOptions } from './margin-options.js';

export interface MarginTargetValue {
  /** f(t): the margin-adjusted target cosine (multiply by s for the logit). */
  value: number;
  /** d f / d t as used by backprop: the true derivative ('exact') or 1 ('straight_through'). */
  slope: number;
}

/** True when the options reduce to CosFace (m1 = 1, m2 = 0): f(t) = t − m3 exactly, no arccos round trip. */
export function isCosineOnlyMargin(o: Pick<ResolvedMarginOptions, 'm1' | 'm2'>): boolean {
  return o.m1 === 1 && o.m2 === 0;
}

/**
 * f(t) and its backprop slope for one target cosine t (already clamped to [−1, 1]).
 * - plain: f = cos(m1·acos(t̃) + m2) − m3 with t̃ = clip(t, −1+ε, 1−ε); f' = m1·sin(m1θ + m2)/sin θ inside the
 *   clip range, 0 outside it (the clip's own derivative).
 * - th_mm: the same while t > th, else f = t − mm − m3 with f' = 1.
 * - straight_through: same value, slope 1.
 */
export function marginTarget(t: number, o: ResolvedMarginOptions): MarginTargetValue {
  if (isCosineOnlyMargin(o)) return { value: t - o.m3, slope: 1 };
  if (o.rule === 'th_mm' && !(t > o.th)) {
    return { value: t - o.mm - o.m3, slope: 1 };
  }
  const lo = -1 + COS_CLIP_EPS;
  const hi = 1 - COS_CLIP_EPS;
  const tc = Math.min(hi, Math.max(lo, t));
  const theta = Math.acos(tc);
  const value = Math.cos(o.m1 * theta + o.m2) - o.m3;
  if (o.gradient === 'straight_through') return { value, slope: 1 };
  const inside = t >= lo && t <= hi;
  const slope = inside ? (o.m1 * Math.sin(o.m1 * theta + o.m2)) / Math.sqrt(1 - tc * tc) : 0;
  return { value, slope };
}
