// Options of the combined margin softmax (ArcFace TPAMI Eq. 4):
//   target logit  s·(cos(m1·θ_y + m2) − m3),   other logits  s·cos θ_j.
// SphereFace = (m1, 0, 0), ArcFace = (1, m2, 0), CosFace = (1, 0, m3); any mix is allowed.

/**
 * What happens when m1·θ + m2 passes π (cos is no longer decreasing in θ there):
 * - `plain`: use cos(m1·θ + m2) everywhere (current arcface_torch; the target logit then grows again as θ → π).
 * - `th_mm`: insightface's classic `easy_margin=False` fallback: above the threshold angle use the
 *   monotone, linear penalty cos θ − mm (− m3) instead, with th = cos(π − m2), mm = sin(π − m2)·m2.
 */
export type MarginRule = 'plain' | 'th_mm';

/**
 * How the margin enters the gradient:
 * - `exact`: the true derivative of the target logit (pre-Dec-2022 insightface, pytorch-metric-learning).
 * - `straight_through`: the forward value has the margin, the backward pass treats it as a constant offset
 *   (d logit / d cos = s for the target too), as current arcface_torch does by applying the margin under
 *   `torch.no_grad()`.
 */
export type MarginGradient = 'exact' | 'straight_through';

export interface MarginOptions {
  /** Scale s applied to every logit (insightface hard-codes 64). Must be > 0. */
  s: number;
  /** Multiplicative angular margin (SphereFace), ≥ 1. */
  m1: number;
  /** Additive angular margin (ArcFace), radians, in [0, π). */
  m2: number;
  /** Additive cosine margin (CosFace), in [0, 2). */
  m3: number;
  /** Default 'plain'. */
  rule?: MarginRule;
  /** Default 'exact'. */
  gradient?: MarginGradient;
}

/** Validated options with the defaults filled in and the constants of the `th_mm` rule precomputed. */
export interface ResolvedMarginOptions {
  s: number;
  m1: number;
  m2: number;
  m3: number;
  rule: MarginRule;
  gradient: MarginGradient;
  /**
   * Threshold cosine of the `th_mm` rule: the margin path is used while cos θ > th. With m1 = 1 this is
   * insightface's th = cos(π − m2); for m1 > 1 it is cos((π − m2)/m1), the angle where m1·θ + m2 reaches π (ours).
   */
  th: number;
  /** Linear penalty of the fallback branch: mm = sin(π − m2)·m2 (insightface). */
  mm: number;
}

/**
 * Cosines are clipped to [−1 + ε, 1 − ε] before arccos: d acos(x)/dx = −1/√(1−x²) is infinite at |x| = 1.
 * 1e-7 is about one float32 ulp below 1, so only cosines that are 1 to float32 precision are affected
 * (insightface clamps to [−1, 1] and relies on never hitting the end points exactly).
 */
export const COS_CLIP_EPS = 1e-7;

/** Scale used by every preset and by arcface_torch (s = 64). */
export const DEFAULT_MARGIN_SCALE = 64;

/** The presets of ArcFace TPAMI Table 2 / arcface_torch configs, all with s = 64, rule 'plain', gradient 'exact'. */
export const MARGIN_PRESETS = {
  /** ArcFace (1, 0.5, 0): MS1MV2/MS1MV3 configs. */
  arcface: { s: DEFAULT_MARGIN_SCALE, m1: 1, m2: 0.5, m3: 0 },
  /** CosFace (1, 0, 0.4): Glint360K, WebFace, ViT configs. */
  cosface: { s: DEFAULT_MARGIN_SCALE, m1: 1, m2: 0, m3: 0.4 },
  /** SphereFace (1.35, 0, 0) in its arccos form (no integer margin, no annealing). */
  sphereface: { s: DEFAULT_MARGIN_SCALE, m1: 1.35, m2: 0, m3: 0 },
  /** insightface's combined margin CM1 (1, 0.3, 0.2). */
  combined: { s: DEFAULT_MARGIN_SCALE, m1: 1, m2: 0.3, m3: 0.2 },
} as const satisfies Record<string, MarginOptions>;

export type MarginPresetName = keyof typeof MARGIN_PRESETS;

const RULES: readonly MarginRule[] = ['plain', 'th_mm'];
const GRADIENTS: readonly MarginGradient[] = ['exact', 'straight_through'];

function requireNumber(opts: Record<string, unknown>, key: string): number {
  const v = opts[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(
      `margin option ${key}=${String(v)} is not a finite number; give s, m1, m2, m3 explicitly or start from ` +
        `MARGIN_PRESETS.arcface (s=64, m1=1, m2=0.5, m3=0).`,
    );
  }
  return v;
}

/** Check margin options at the boundary and fill the defaults; throws one clear Error naming the bad option. */
export function validateMarginOptions(opts: MarginOptions): ResolvedMarginOptions {
  if (opts == null || typeof opts !== 'object') {
    throw new Error('margin options must be an object { s, m1, m2, m3, rule?, gradient? }, e.g. MARGIN_PRESETS.arcface.');
  }
  const o = opts as unknown as Record<string, unknown>;
  const s = requireNumber(o, 's');
  const m1 = requireNumber(o, 'm1');
  const m2 = requireNumber(o, 'm2');
  const m3 = requireNumber(o, 'm3');
  if (s <= 0) throw new Error(`margin option s=${s} must be > 0 (the logit scale; insightface uses 64).`);
  if (m1 < 1) throw new Error(`margin option m1=${m1} must be ≥ 1 (multiplicative angular margin; 1 disables it).`);
  if (m2 < 0 || m2 >= Math.PI) throw new Error(`margin option m2=${m2} must be in [0, π) radians (ArcFace uses 0.5).`);
  if (m3 < 0 || m3 >= 2) throw new Error(`margin option m3=${m3} must be in [0, 2) (cosine margin; CosFace uses 0.4).`);
  const rule = opts.rule ?? 'plain';
  if (!RULES.includes(rule)) throw new Error(`margin option rule='${String(rule)}' must be one of ${RULES.join(', ')}.`);
  const gradient = opts.gradient ?? 'exact';
  if (!GRADIENTS.includes(gradient)) {
    throw new Error(`margin option gradient='${String(gradient)}' must be one of ${GRADIENTS.join(', ')}.`);
  }
  return { s, m1, m2, m3, rule, gradient, th: Math.cos((Math.PI - m2) / m1), mm: Math.sin(Math.PI - m2) * m2 };
}
