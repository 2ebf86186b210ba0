// Options of `invert`, with the ArcFace TPAMI §4.5 values where the paper gives them and DeepInversion's
// (theory notes §1.2/§1.4) where it is silent. Validated at the boundary: a bad value is one Error naming it.
import { MARGIN_PRESETS, validateMarginOptions, type MarginOptions } from '@facet/heads';
import type { BnStatisticForm } from './bn-statistic-loss.js';
import type { TotalVariationNorm } from './total-variation.js';

/** Open-set identity loss: 'l2' = ‖f̂ − t̂‖₂² (paper, on L2-normalised features); 'cosine' = 1 − cos(f, t). */
export type OpenSetLoss = 'l2' | 'cosine';

/**
 * 'facet' (default): the paper's objective with the balance fixed for CPU budgets and open-set targets (open-set
 * identity weight s/2, 600 steps, new identities drawn near the model's identities: docs/inversion/README.md).
 * 'paper': ArcFace TPAMI §4.5 as printed (identity weight 1, 2000 steps; the CLI then draws random identities
 * uniformly on the sphere). Explicit options override either.
 */
export type InversionRecipe = 'facet' | 'paper';

export interface InversionOptions {
  /** Which defaults fill the options not given. Default 'facet'. */
  recipe?: InversionRecipe;
  /** Optimisation steps per batch. Default 600 ('paper': 2000, DeepInversion setting 1; the paper ran 20k on a V100). */
  steps?: number;
  /** Adam base learning rate. Default 0.25 (paper). */
  lr?: number;
  /** Linear warm-up steps before the cosine decay. Default 100 (DeepInversion), capped at steps/2. */
  warmupSteps?: number;
  /** Adam β1, β2. Default [0.5, 0.9] (DeepInversion's setting with pixel clipping). */
  betas?: [number, number];
  /** Adam ε. Default 1e-8. */
  epsilon?: number;
  /**
   * Weight of the identity term. Default 'auto': 1 for class targets (the ArcFace loss already carries the scale s),
   * s/2 for open-set targets (margin.s: the ℓ2 term 2 − 2cos has slope 2 in the cosine, the margin loss ≈ s at the
   * start; equal slopes keep the BN prior from swamping the identity). 'paper' recipe: 1.
   */
  identityWeight?: number | 'auto';
  /** λ of the BN statistic prior (Eq. 8). Default 0.05 (paper). 0 disables it (--no-bn-prior). */
  bnWeight?: number;
  /**
   * Fraction of the steps over which λ_bn rises linearly from λ/(f·T) to λ (identity first, then naturalness).
   * Default 0: constant λ, as the paper.
   */
  bnRamp?: number;
  /** Default 'paper' (squared, mean + std). */
  bnForm?: BnStatisticForm;
  /** Weight of the first BN layer. Default 1 (paper); DeepInversion uses 10. */
  firstBnMultiplier?: number;
  /** BN1d (embedding BN) layers in the prior: 'auto' (default) = only for batches ≥ 64 (see BnStatisticOptions). */
  bn1d?: boolean | 'auto';
  /** Total-variation weight. Default 1e-3 (paper). 0 disables it (--no-tv). */
  tvWeight?: number;
  /** Default 'l2' (DeepInversion's Frobenius-norm TV). */
  tvNorm?: TotalVariationNorm;
  /** Image ℓ2 weight. Default 1e-4 (paper). */
  l2Weight?: number;
  /** Maximum random roll in pixels per axis. Default round(15·S/112) (DeepInversion's 30 at 224 px, scaled). */
  jitter?: number;
  /** Random horizontal flip (p = 0.5) each step. Default true. */
  flip?: boolean;
  /** Images optimised together (their BN statistics are pooled). Default 256 (paper); more targets run in chunks. */
  batchSize?: number;
  /** Seed of the initial noise, jitter and flips. Default 0. */
  seed?: number;
  /** Close-set margin loss. Default ArcFace (s = 64, m = 0.5); loadClassCenters returns the trained head's. */
  margin?: MarginOptions;
  /** Default 'l2'. */
  openSetLoss?: OpenSetLoss;
  /** Steps at which images are kept for the contact sheet (the last step is always kept). Default 6 evenly spaced. */
  snapshotSteps?: number[];
  /**
   * A target counts as converged when its cosine under the inverted model reaches this (and, with a verifier, the
   * verifier scores it above its impostor level). Default 0.7: a second real photo of the same identity scores
   * 0.68 under the quickstart model (docs/inversion), so an image at ≥ 0.7 is as close to its target as one.
   */
  convergedCosine?: number;
}

export interface ResolvedInversionOptions {
  recipe: InversionRecipe;
  steps: number;
  lr: number;
  warmupSteps: number;
  betas: [number, number];
  epsilon: number;
  identityWeight: number | 'auto';
  bnWeight: number;
  bnRamp: number;
  bnForm: BnStatisticForm;
  firstBnMultiplier: number;
  bn1d: boolean | 'auto';
  tvWeight: number;
  tvNorm: TotalVariationNorm;
  l2Weight: number;
  jitter: number;
  flip: boolean;
  batchSize: number;
  seed: number;
  margin: MarginOptions;
  openSetLoss: OpenSetLoss;
  snapshotSteps: number[];
  convergedCosine: number;
}

function fail(key: string, value: unknown, rule: string): never {
  throw new Error(`invert option ${key}=${JSON.stringify(value)} ${rule}.`);
}

function nonNegative(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(key, v, 'must be a finite number ≥ 0');
  return v;
}

function positiveInt(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(key, v, 'must be a positive integer');
  return v;
}

/** Default snapshot steps: `count` evenly spaced points ending at the last step (1-based step numbers). */
export function defaultSnapshotSteps(steps: number, count = 6): number[] {
  const out = new Set<number>();
  for (let i = 1; i <= count; i++) out.add(Math.max(1, Math.round((steps * i) / count)));
  return [...out].sort((a, b) => a - b);
}

/** Fill defaults and validate; `inputSize` scales the default jitter. */
export function resolveInversionOptions(opts: InversionOptions = {}, inputSize = 112): ResolvedInversionOptions {
  const known = new Set([
    'recipe', 'steps', 'lr', 'warmupSteps', 'betas', 'epsilon', 'identityWeight', 'bnWeight', 'bnForm', 'firstBnMultiplier', 'bn1d', 'tvWeight',
    'tvNorm', 'l2Weight', 'jitter', 'flip', 'batchSize', 'seed', 'margin', 'openSetLoss', 'snapshotSteps', 'bnRamp', 'convergedCosine',
  ]);
  for (const k of Object.keys(opts)) if (!known.has(k)) throw new Error(`invert: unknown option "${k}" (known: ${[...known].join(', ')}).`);
  const recipe = opts.recipe ?? 'facet';
  if (recipe !== 'facet' && recipe !== 'paper') fail('recipe', recipe, 'must be "facet" or "paper"');
  const paper = recipe === 'paper';
  const steps = positiveInt('steps', opts.steps ?? (paper ? 2000 : 600));
  const lr = opts.lr ?? 0.25;
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) fail('lr', lr, 'must be a number > 0');
  const warmupSteps = Math.min(Math.floor(nonNegative('warmupSteps', opts.warmupSteps ?? 100)), Math.floor(steps / 2));
  const betas = opts.betas ?? [0.5, 0.9];
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
    fail('betas', betas, 'must be two numbers in [0, 1)');
  }
  const epsilon = opts.epsilon ?? 1e-8;
  if (!(typeof epsilon === 'number' && epsilon > 0)) fail('epsilon', epsilon, 'must be a number > 0');
  const bnForm = opts.bnForm ?? 'paper';
  if (bnForm !== 'paper' && bnForm !== 'deepinversion') fail('bnForm', bnForm, 'must be "paper" or "deepinversion"');
  const bn1d = opts.bn1d ?? 'auto';
  if (bn1d !== 'auto' && typeof bn1d !== 'boolean') fail('bn1d', bn1d, "must be true, false or 'auto'");
  const tvNorm = opts.tvNorm ?? 'l2';
  if (tvNorm !== 'l2' && tvNorm !== 'l1') fail('tvNorm', tvNorm, 'must be "l2" or "l1"');
  const openSetLoss = opts.openSetLoss ?? 'l2';
  if (openSetLoss !== 'l2' && openSetLoss !== 'cosine') fail('openSetLoss', openSetLoss, 'must be "l2" or "cosine"');
  const jitter = opts.jitter ?? Math.round((15 * inputSize) / 112);
  if (!Number.isInteger(jitter) || jitter < 0 || jitter >= inputSize) fail('jitter', jitter, `must be an integer in [0, ${inputSize - 1}] (pixels)`);
  const flip = opts.flip ?? true;
  if (typeof flip !== 'boolean') fail('flip', flip, 'must be true or false');
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) fail('seed', seed, 'must be an integer');
  const snapshotSteps = opts.snapshotSteps ? [...new Set(opts.snapshotSteps)].sort((a, b) => a - b) : defaultSnapshotSteps(steps);
  for (const s of snapshotSteps) if (!Number.isInteger(s) || s < 0 || s > steps) fail('snapshotSteps', opts.snapshotSteps, `must hold integers in [0, ${steps}] (0 = the initial image)`);
  if (!snapshotSteps.includes(steps)) snapshotSteps.push(steps);
  const margin = opts.margin ?? { ...MARGIN_PRESETS.arcface };
  validateMarginOptions(margin);
  const identityWeight = opts.identityWeight ?? (paper ? 1 : 'auto');
  if (identityWeight !== 'auto') nonNegative('identityWeight', identityWeight);
  const bnRamp = opts.bnRamp ?? 0;
  if (!(typeof bnRamp === 'number' && bnRamp >= 0 && bnRamp <= 1)) fail('bnRamp', bnRamp, 'must be a fraction of the steps in [0, 1]');
  const convergedCosine = opts.convergedCosine ?? 0.7;
  if (!(typeof convergedCosine === 'number' && convergedCosine >= -1 && convergedCosine <= 1)) fail('convergedCosine', convergedCosine, 'must be a cosine in [−1, 1]');
  return {
    recipe,
    steps,
    lr,
    warmupSteps,
    betas: [betas[0], betas[1]],
    epsilon,
    identityWeight,
    bnWeight: nonNegative('bnWeight', opts.bnWeight ?? 0.05),
    bnRamp,
    bnForm,
    firstBnMultiplier: nonNegative('firstBnMultiplier', opts.firstBnMultiplier ?? 1),
    bn1d,
    tvWeight: nonNegative('tvWeight', opts.tvWeight ?? 1e-3),
    tvNorm,
    l2Weight: nonNegative('l2Weight', opts.l2Weight ?? 1e-4),
    jitter,
    flip,
    batchSize: positiveInt('batchSize', opts.batchSize ?? 256),
    seed,
    margin,
    openSetLoss,
    snapshotSteps,
    convergedCosine,
  };
}

/** The identity weight in effect for a target kind ('auto': s/2 open set, 1 close set; see InversionOptions). */
export function effectiveIdentityWeight(o: Pick<ResolvedInversionOptions, 'identityWeight' | 'margin'>, closeSet: boolean): number {
  if (o.identityWeight !== 'auto') return o.identityWeight;
  return closeSet ? 1 : o.margin.s / 2;
}
