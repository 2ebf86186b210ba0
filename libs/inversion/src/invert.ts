// BN-prior face inversion (ArcFace TPAMI §3.3 Alg. 1 and §4.5; DeepInversion's recipe where the paper is silent).
// No generator is trained: the pixels themselves are optimised, starting from N(0, 1) noise (or a given image),
// to minimise
//   L = w_id·L_id(f(x̃)) + λ_bn·Σ_l w_l·r_l(x̃) + w_tv·TV(x̃) + w_l2·mean_b‖x̃_b‖₂,   x̃ = flip?(roll(x, δ))
// with the model's BN layers in inference mode, Adam (lr 0.25, warm-up + cosine) and a clamp to [−1, 1] after
// every step. L_id is the ArcFace loss to a class centre (close set) or ‖f̂ − t̂‖² to any embedding (open set).
import type { Backbone } from '@facet/backbones';
import { mulberry32, tf } from '@facet/engine';
import { bnStatisticLoss, forwardWithBnStatistics } from './bn-statistic-loss.js';
import { classTargetCosines, closeSetIdentityLoss, normalizeRows, openSetIdentityLoss, rowCosines } from './identity-loss.js';
import { ImageAdam } from './image-adam.js';
import { flipImages, rollImages } from './jitter.js';
import { effectiveIdentityWeight, resolveInversionOptions, type InversionOptions, type ResolvedInversionOptions } from './options.js';
import { mixReference, referenceRows } from './random-identities.js';
import { bnWeightAt, inversionLearningRate } from './schedule.js';
import { resolveTargets, type InversionTarget, type ResolvedTargets } from './targets.js';
import { imageL2Norm, totalVariation } from './total-variation.js';

/** An independent model that judges the result (a different architecture or seed), as the paper's third-party R100. */
export interface VerifierSpec {
  model: Backbone;
  /**
   * The verifier run's own class centres (same class indices), [C, D] or [C, K, D]: for class targets, and for
   * random targets drawn from the inverted model's centres (the same mixture of the verifier's centres).
   */
  centers?: tf.Tensor2D | tf.Tensor3D;
  /** Embedding / random targets: the same targets expressed in the verifier's space, one row per target. */
  embeddings?: tf.Tensor2D;
}

export interface InversionProgress {
  /** 1-based step within the current chunk. */
  step: number;
  steps: number;
  /** 0-based chunk of `batchSize` targets, and how many chunks there are. */
  chunk: number;
  chunks: number;
  lr: number;
  /** λ_bn in effect at this step (bnRamp). */
  bnWeight: number;
  /** Total loss and its weighted terms, on this step's jittered batch. */
  loss: number;
  identity: number;
  bn: number;
  tv: number;
  l2: number;
  /** Mean cosine between this step's (jittered) images and their targets under the model. */
  cosine: number;
  elapsedSeconds: number;
}

export interface InvertOptions extends InversionOptions {
  /** Start from these images ([N, S, S, 3] or [1, S, S, 3], normalised pixels) instead of N(0, 1) noise. */
  init?: tf.Tensor4D;
  /** Score the final images with an independent model too. */
  verifier?: VerifierSpec;
  /** Called after every step (awaited between steps, so progress bars can draw). */
  onProgress?: (p: InversionProgress) => void;
}

export interface InversionImageReport {
  index: number;
  target: string;
  /** cos(f(x), target) under the inverted model, on the final clean (un-jittered) image. */
  cosine: number;
  /** The same at the start (noise or init). */
  initialCosine: number;
  /** cos under the verifier to the verifier's view of the same target; null when the target has none there. */
  verifierCosine: number | null;
  /**
   * The verifier's impostor level for this target: mean cos of the *other* targets' images to this target under
   * the verifier (null without a verifier view or with one target). An image that carries its identity scores
   * above it; one that only became "a face" does not.
   */
  verifierImpostorCosine: number | null;
  /** cosine ≥ convergedCosine and, where the verifier scores it, verifierCosine > verifierImpostorCosine. */
  converged: boolean;
  /** Σ_l r_l of this image alone (BN2d layers, statistics over its pixels; the configured form, unweighted). */
  bnDistance: number;
  /** The same for the real face, for image targets. */
  targetBnDistance?: number;
}

export interface InversionSnapshot {
  /** Steps taken (0 = the initial image). */
  step: number;
  /** [N, S, S, 3] in [−1, 1] (owned by the result). */
  images: tf.Tensor4D;
}

export interface InversionSummary {
  targets: number;
  kind: InversionTarget['kind'];
  steps: number;
  chunks: number;
  seconds: number;
  meanCosine: number;
  meanInitialCosine: number;
  meanVerifierCosine: number | null;
  meanBnDistance: number;
  meanInitialBnDistance: number;
  meanTargetBnDistance?: number;
  /** Σ_l r_l over each optimised batch (the prior's own quantity, unweighted, same layers as the prior). */
  batchBnDistance: number;
  initialBatchBnDistance: number;
  /** The same for the real faces of image targets, batched alike. */
  targetBatchBnDistance?: number;
  /** Which terms were on. */
  priors: { bn: boolean; tv: boolean; l2: boolean };
  /** The identity weight in effect ('auto' resolved for this target kind). */
  identityWeight: number;
  meanVerifierImpostorCosine: number | null;
  /** Every target converged (see convergence). */
  converged: boolean;
  convergedCount: number;
  /** The rule behind `converged`, in words and numbers. */
  convergence: { cosineThreshold: number; verifierRule: string | null; why: string };
  model: string;
  verifier?: string;
}

export interface InversionResult {
  /** [N, S, S, 3] in [−1, 1]; PNG value = x·127.5 + 127.5. Dispose with disposeInversion(result). */
  images: tf.Tensor4D;
  snapshots: InversionSnapshot[];
  report: InversionImageReport[];
  summary: InversionSummary;
  options: ResolvedInversionOptions;
}

/** Free every tensor of a result. */
export function disposeInversion(result: InversionResult): void {
  result.images.dispose();
  for (const s of result.snapshots) s.images.dispose();
}

const mean = (a: number[]) => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : NaN);
const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

function sliceRows<T extends tf.Tensor>(t: T, lo: number, hi: number): T {
  return tf.slice(t, lo, hi - lo) as T;
}

/** Per-row cosine of images to their targets under `model` (targets resolved against the same model). */
function targetCosines(model: Backbone, x: tf.Tensor4D, t: ResolvedTargets, lo: number, hi: number): number[] {
  return tf.tidy(() => {
    const emb = model.apply(x, { training: false });
    const cos = t.kind === 'class' ? classTargetCosines(emb, t.centers!, t.labels!.subarray(lo, hi)) : rowCosines(emb, sliceRows(t.embeddings!, lo, hi));
    return Array.from(cos.dataSync());
  });
}

/** BN statistic distance of every image on its own (BN2d layers only: a single image has no batch axis to pool). */
function perImageBnDistance(model: Backbone, x: tf.Tensor4D, o: ResolvedInversionOptions): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.shape[0]; i++) {
    out.push(tf.tidy(() => bnStatisticLoss(model, sliceRows(x, i, i + 1), { form: o.bnForm, include1d: false }).dataSync()[0]!));
  }
  return out;
}

/** BN statistic loss of a whole set, pooled per chunk of `batchSize` as during the optimisation; the chunk mean. */
function batchBnDistance(model: Backbone, x: tf.Tensor4D, o: ResolvedInversionOptions): number {
  const values: number[] = [];
  for (let lo = 0; lo < x.shape[0]; lo += o.batchSize) {
    const hi = Math.min(x.shape[0], lo + o.batchSize);
    values.push(tf.tidy(() => bnStatisticLoss(model, sliceRows(x, lo, hi), { form: o.bnForm, include1d: o.bn1d }).dataSync()[0]!));
  }
  return mean(values);
}

function resizeTo(x: tf.Tensor4D, size: number): tf.Tensor4D {
  return x.shape[1] === size && x.shape[2] === size ? x : tf.image.resizeBilinear(x, [size, size], true);
}

/** The targets as the verifier sees them: unit rows [N, D_v], or undefined where they have no counterpart there. */
function verifierTargets(v: VerifierSpec, target: InversionTarget, t: ResolvedTargets): tf.Tensor2D | undefined {
  return tf.tidy(() => {
    if (target.kind === 'image') return normalizeRows(v.model.apply(resizeTo(target.images, v.model.inputSize), { training: false }));
    if (target.kind === 'class' && v.centers) return tf.gather(referenceRows(v.centers), tf.tensor1d(t.labels!, 'int32')) as tf.Tensor2D;
    if (target.kind === 'random' && v.centers && t.weights) return normalizeRows(mixReference(t.weights, v.centers));
    if (target.kind !== 'class' && v.embeddings) return normalizeRows(v.embeddings);
    return undefined;
  });
}

/**
 * Under the verifier: each image's cosine to its own target, and the impostor level of each target (mean cosine of
 * the other images to it); nulls where the target has no counterpart in the verifier's space.
 */
function verifierScores(v: VerifierSpec, images: tf.Tensor4D, target: InversionTarget, t: ResolvedTargets): { genuine: Array<number | null>; impostor: Array<number | null> } {
  const n = t.count;
  const vt = verifierTargets(v, target, t);
  if (!vt) return { genuine: new Array<null>(n).fill(null), impostor: new Array<null>(n).fill(null) };
  const [own, matrix] = tf.tidy(() => {
    const emb = v.model.apply(resizeTo(images, v.model.inputSize), { training: false });
    // class targets keep the max over sub-centres for the image's own class, as the close-set loss scores it
    const diag = target.kind === 'class' ? classTargetCosines(emb, v.centers!, t.labels!) : rowCosines(emb, vt);
    return [diag, tf.matMul(normalizeRows(emb), vt, false, true)];
  });
  const genuine = Array.from(own.dataSync());
  const m = matrix.arraySync() as number[][];
  tf.dispose([own, matrix, vt]);
  const impostor = genuine.map((_, i) => (n < 2 ? null : mean(m.filter((_, j) => j !== i).map((row) => row[i]!))));
  return { genuine, impostor };
}

function validateVerifier(v: VerifierSpec | undefined, target: InversionTarget, t: ResolvedTargets): void {
  if (!v) return;
  if (!v.model || typeof v.model.apply !== 'function') throw new Error('invert: verifier.model must be a backbone (loadBackbone(dir)).');
  const D = v.model.embeddingSize;
  if (v.centers) {
    if (target.kind !== 'class' && !(target.kind === 'random' && t.weights)) {
      throw new Error('invert: verifier.centers applies to class targets and to random targets drawn from the model\'s class centres.');
    }
    if (v.centers.shape[v.centers.rank - 1] !== D) throw new Error(`invert: verifier centers are ${v.centers.shape[v.centers.rank - 1]}-d but the verifier embeds in ${D}-d.`);
    if (t.labels) {
      const maxLabel = Math.max(...t.labels);
      if (maxLabel >= v.centers.shape[0]) throw new Error(`invert: class ${maxLabel} is out of range for the verifier's head (${v.centers.shape[0]} classes); train the verifier on the same dataset.`);
    } else if (t.weights!.shape[1] !== v.centers.shape[0]) {
      throw new Error(`invert: random identities were drawn over ${t.weights!.shape[1]} class centres but the verifier's head has ${v.centers.shape[0]}; train the verifier on the same dataset.`);
    }
  }
  if (v.embeddings && (v.embeddings.rank !== 2 || v.embeddings.shape[0] !== t.count || v.embeddings.shape[1] !== D)) {
    throw new Error(`invert: verifier.embeddings must be [${t.count}, ${D}] (one row per target, verifier space); got [${v.embeddings.shape.join(', ')}].`);
  }
}

/** What one chunk of targets needs during its optimisation. */
interface Chunk {
  index: number;
  count: number;
  /** Close set: labels of the chunk's rows. Open set: their normalised target embeddings. */
  labels?: Int32Array;
  targets?: tf.Tensor2D;
}

/** The weighted objective of one step on the augmented batch xa; returns the total and [total, id, bn, tv, l2, cos]. */
function stepObjective(
  model: Backbone,
  xa: tf.Tensor4D,
  t: ResolvedTargets,
  chunk: Chunk,
  o: ResolvedInversionOptions,
  w: { identity: number; bn: number },
): { total: tf.Scalar; terms: tf.Tensor1D } {
  let emb: tf.Tensor2D;
  let bn: tf.Scalar;
  if (w.bn > 0) {
    const f = forwardWithBnStatistics(model, xa, { form: o.bnForm, firstLayerMultiplier: o.firstBnMultiplier, include1d: o.bn1d });
    emb = f.embedding;
    bn = tf.mul(f.loss, w.bn);
  } else {
    emb = model.apply(xa, { training: false });
    bn = tf.scalar(0);
  }
  const idLoss = chunk.labels ? closeSetIdentityLoss(emb, t.centers!, chunk.labels, o.margin) : openSetIdentityLoss(emb, chunk.targets!, o.openSetLoss);
  const id = tf.mul(idLoss, w.identity) as tf.Scalar;
  const tv = o.tvWeight > 0 ? (tf.mul(totalVariation(xa, o.tvNorm), o.tvWeight) as tf.Scalar) : tf.scalar(0);
  const l2 = o.l2Weight > 0 ? (tf.mul(imageL2Norm(xa), o.l2Weight) as tf.Scalar) : tf.scalar(0);
  const cos = tf.mean(chunk.labels ? classTargetCosines(emb, t.centers!, chunk.labels) : rowCosines(emb, chunk.targets!));
  const total = tf.addN([id, bn, tv, l2]) as tf.Scalar;
  return { total, terms: tf.stack([total, id, bn, tv, l2, cos]) as tf.Tensor1D };
}

/**
 * Optimise the images x of one chunk in place for o.steps steps. `keep(step)` receives a copy of x after the
 * steps that are snapshot steps.
 */
async function optimizeChunk(
  model: Backbone,
  x: tf.Variable,
  t: ResolvedTargets,
  chunk: Chunk,
  chunks: number,
  o: ResolvedInversionOptions,
  keep: (step: number, images: tf.Tensor4D) => void,
  onProgress: ((p: InversionProgress) => void) | undefined,
  t0: number,
): Promise<void> {
  const adam = new ImageAdam(x.shape, { beta1: o.betas[0], beta2: o.betas[1], epsilon: o.epsilon });
  const rng = mulberry32(o.seed * 7919 + chunk.index + 1);
  const shift = () => (o.jitter ? Math.floor(rng() * (2 * o.jitter + 1)) - o.jitter : 0);
  const identity = effectiveIdentityWeight(o, t.kind === 'class');
  try {
    for (let step = 0; step < o.steps; step++) {
      const lr = inversionLearningRate(step, o.steps, o.lr, o.warmupSteps);
      const bnWeight = bnWeightAt(step, o.steps, o.bnWeight, o.bnRamp);
      const dy = shift();
      const dx = shift();
      const flip = o.flip && rng() < 0.5;
      let terms: tf.Tensor1D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const rolled = rollImages(x as tf.Tensor4D, dy, dx);
        const r = stepObjective(model, flip ? flipImages(rolled) : rolled, t, chunk, o, { identity, bn: bnWeight });
        terms = tf.keep(r.terms);
        return r.total;
      }, [x]);
      adam.step(x, grads[x.name]!, lr);
      tf.tidy(() => x.assign(tf.clipByValue(x, -1, 1)));
      const [loss, id, bn, tv, l2, cosine] = Array.from(terms!.dataSync()) as [number, number, number, number, number, number];
      tf.dispose([value, terms!, ...Object.values(grads)]);
      if (!Number.isFinite(loss)) {
        throw new Error(`invert: the loss became ${loss} at step ${step + 1}; lower --lr or the prior weights (identity ${id}, bn ${bn}, tv ${tv}, l2 ${l2}).`);
      }
      keep(step + 1, x as tf.Tensor4D);
      onProgress?.({ step: step + 1, steps: o.steps, chunk: chunk.index, chunks, lr, bnWeight, loss, identity: id, bn, tv, l2, cosine, elapsedSeconds: (performance.now() - t0) / 1000 });
      await yieldToEventLoop();
    }
  } finally {
    adam.dispose();
  }
}

/** Concatenate per-chunk parts (taking ownership). */
function joinChunks(parts: tf.Tensor4D[]): tf.Tensor4D {
  if (parts.length === 1) return parts[0]!;
  const all = tf.concat(parts, 0) as tf.Tensor4D;
  tf.dispose(parts);
  return all;
}

/**
 * Optimise one image per target so that the model maps it to that target. Targets are processed in chunks of
 * `batchSize`; each chunk is one jointly optimised batch (its BN statistics are pooled over the chunk, as in the
 * paper's 256-identity batches). Returns the images, snapshots for a contact sheet and a per-image report.
 */
export async function invert(model: Backbone, target: InversionTarget, opts: InvertOptions = {}): Promise<InversionResult> {
  if (!model || typeof model.apply !== 'function') throw new Error('invert: model must be a backbone (loadBackbone(dir) or createBackbone(name)).');
  const { init, verifier, onProgress, ...numeric } = opts;
  const o = resolveInversionOptions(numeric, model.inputSize);
  const S = model.inputSize;
  const t = resolveTargets(model, target);
  const finals: tf.Tensor4D[] = [];
  const snaps = new Map<number, tf.Tensor4D[]>(o.snapshotSteps.map((s) => [s, []]));
  const keep = (step: number, x: tf.Tensor4D) => snaps.get(step)?.push(tf.clipByValue(x, -1, 1) as tf.Tensor4D);
  try {
    validateVerifier(verifier, target, t);
    if (init && (init.rank !== 4 || (init.shape[0] !== 1 && init.shape[0] !== t.count) || init.shape[1] !== S || init.shape[2] !== S || init.shape[3] !== 3)) {
      throw new Error(`invert: init images must be [1 or ${t.count}, ${S}, ${S}, 3]; got [${init.shape.join(', ')}].`);
    }
    const chunks = Math.ceil(t.count / o.batchSize);
    const t0 = performance.now();
    const m = { cos: [] as number[], cos0: [] as number[], bn: [] as number[], bn0: [] as number[], batchBn: [] as number[], batchBn0: [] as number[] };

    for (let c = 0; c < chunks; c++) {
      const lo = c * o.batchSize;
      const hi = Math.min(t.count, lo + o.batchSize);
      const start = tf.tidy(() => {
        if (init) return init.shape[0] === 1 ? tf.tile(init, [hi - lo, 1, 1, 1]) : sliceRows(init, lo, hi);
        // tfjs treats seed 0 as "no seed" (Math.random): keep the seed odd, hence never 0
        return tf.randomNormal([hi - lo, S, S, 3], 0, 1, 'float32', 2 * (o.seed * 1009 + c) + 1);
      }) as tf.Tensor4D;
      const x = tf.variable(start, true, `inversion/x${c}_${Date.now()}_${Math.random()}`);
      start.dispose();
      const chunk: Chunk = { index: c, count: hi - lo, labels: t.labels?.subarray(lo, hi), targets: t.embeddings ? sliceRows(t.embeddings, lo, hi) : undefined };
      try {
        const xi = x as tf.Tensor4D;
        m.cos0.push(...targetCosines(model, xi, t, lo, hi));
        m.bn0.push(...perImageBnDistance(model, xi, o));
        m.batchBn0.push(batchBnDistance(model, xi, o));
        keep(0, xi);
        await optimizeChunk(model, x, t, chunk, chunks, o, keep, onProgress, t0);
        m.cos.push(...targetCosines(model, xi, t, lo, hi));
        m.bn.push(...perImageBnDistance(model, xi, o));
        m.batchBn.push(batchBnDistance(model, xi, o));
        finals.push(tf.clone(x) as tf.Tensor4D);
      } finally {
        chunk.targets?.dispose();
        x.dispose();
      }
    }

    const images = joinChunks(finals.splice(0));
    const snapshots: InversionSnapshot[] = [...snaps].map(([step, parts]) => ({ step, images: joinChunks(parts.splice(0)) }));
    const seconds = (performance.now() - t0) / 1000;
    try {
      const none = new Array<null>(t.count).fill(null);
      const vs = verifier ? verifierScores(verifier, images, target, t) : { genuine: none, impostor: none };
      const targetBn = target.kind === 'image' ? perImageBnDistance(model, target.images, o) : undefined;
      const report: InversionImageReport[] = m.cos.map((cosine, i) => {
        const v = vs.genuine[i]!;
        const imp = vs.impostor[i]!;
        return {
          index: i,
          target: t.describe(i),
          cosine,
          initialCosine: m.cos0[i]!,
          verifierCosine: v,
          verifierImpostorCosine: imp,
          converged: convergedTarget(cosine, v, imp, o.convergedCosine),
          bnDistance: m.bn[i]!,
          ...(targetBn ? { targetBnDistance: targetBn[i]! } : {}),
        };
      });
      const vnum = vs.genuine.filter((v): v is number => v !== null);
      const inum = vs.impostor.filter((v): v is number => v !== null);
      const convergedCount = report.filter((r) => r.converged).length;
      return {
        images,
        snapshots,
        report,
        options: o,
        summary: {
          targets: t.count,
          kind: t.kind,
          steps: o.steps,
          chunks,
          seconds,
          meanCosine: mean(m.cos),
          meanInitialCosine: mean(m.cos0),
          meanVerifierCosine: vnum.length ? mean(vnum) : null,
          meanBnDistance: mean(m.bn),
          meanInitialBnDistance: mean(m.bn0),
          ...(targetBn ? { meanTargetBnDistance: mean(targetBn) } : {}),
          batchBnDistance: mean(m.batchBn),
          initialBatchBnDistance: mean(m.batchBn0),
          ...(target.kind === 'image' ? { targetBatchBnDistance: batchBnDistance(model, target.images, o) } : {}),
          priors: { bn: o.bnWeight > 0, tv: o.tvWeight > 0, l2: o.l2Weight > 0 },
          identityWeight: effectiveIdentityWeight(o, t.kind === 'class'),
          meanVerifierImpostorCosine: inum.length ? mean(inum) : null,
          converged: convergedCount === t.count,
          convergedCount,
          convergence: convergenceRule(o.convergedCosine, inum.length > 0),
          model: model.name,
          ...(verifier ? { verifier: verifier.model.name } : {}),
        },
      };
    } catch (e) {
      disposeInversion({ images, snapshots } as InversionResult);
      throw e;
    }
  } finally {
    // on error, whatever was kept so far; on success both are already emptied (spliced)
    tf.dispose(finals);
    for (const parts of snaps.values()) tf.dispose(parts);
    t.embeddings?.dispose();
    t.weights?.dispose();
  }
}

/** The convergence rule of one target (see InversionImageReport.converged). */
export function convergedTarget(cosine: number, verifierCosine: number | null, verifierImpostorCosine: number | null, threshold: number): boolean {
  if (!(cosine >= threshold)) return false;
  return verifierCosine === null || verifierImpostorCosine === null || verifierCosine > verifierImpostorCosine;
}

function convergenceRule(threshold: number, verifierScored: boolean): InversionSummary['convergence'] {
  return {
    cosineThreshold: threshold,
    verifierRule: verifierScored ? 'verifier cosine > the verifier\'s impostor level (mean cosine of the other targets\' images to this target)' : null,
    why:
      `cosine to the target under the inverted model ≥ ${threshold} (convergedCosine; 0.7 ≈ a second real photo of the same identity under the quickstart model, 0.68)` +
      (verifierScored ? ', and an independent verifier recognises this target in this image more than in the others' : '; the targets have no view in a verifier\'s space (none given, or uniform random targets), so identity transfer is not checked'),
  };
}
