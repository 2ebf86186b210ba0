import { fractionAbove, meanPower, viewDistancesOf } from './alignment.js';
import { boundTerms, type BoundTerms } from './bound-terms.js';
import { divergenceOfCenters, type CenterDivergence } from './center-divergence.js';
import { classCentersOf } from './class-centers.js';
import { concentrationOf, DEFAULT_DELTAS, type Concentration } from './concentration.js';
import {
  checkPositive,
  checkPositiveInteger,
  checkSameShape,
  gatherRows,
  indexLabels,
  normalizeRows,
  rowCount,
  sampleIndices,
  toEmbeddingMatrix,
  type EmbeddingInput,
  type LabelInput,
} from './embedding-matrix.js';
import { nearestCenterAccuracyOf, type NearestCenterAccuracy } from './nearest-center.js';
import { uniformityOfNormalized } from './uniformity.js';

export interface MeasureOptions {
  /** Exponent of the extra Wang–Isola alignment figure; default 1 (mean distance). α = 2 is always reported. */
  alpha?: number;
  /** Uniformity temperature; default 2. */
  t?: number;
  /** δ grid of the concentration curve; default 0.1, 0.2, …, 2.0. */
  deltas?: number[];
  /** ε grid of the R_ε curve; default the same values as the δ grid. */
  epsilons?: number[];
  /** Fix δ (must be in `deltas`) and ε for the bound instead of searching the grids. */
  delta?: number;
  epsilon?: number;
  /** L of Theorem 1; default 1 (δ is measured on embeddings, which absorbs L). */
  lipschitz?: number;
  /**
   * More augmented views of the same images (row i = image i), used by the concentration estimate only: d_A
   * minimizes over all sampled views, and two views approximate that min poorly for strong augmentations.
   */
  extraViews?: EmbeddingInput[];
  /** Ball centres per class for the concentration estimate; default 256. */
  candidates?: number;
  /** Uniformity is estimated on at most this many rows per view; default 10000 (exact cost is N²·D). */
  uniformityMaxPoints?: number;
  /** Bins of the centre-cosine histogram; default 40. */
  histogramBins?: number;
  seed?: number;
  blockRows?: number;
  /** Called between stages (stage name, stages done, stage count), e.g. for a progress bar. */
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface ClassAlignment {
  classId: number;
  count: number;
  /** mean ||f̂(x1) - f̂(x2)||² over the class. */
  alignment: number;
}

export interface MeasureReport {
  images: number;
  dim: number;
  classes: number;
  /** L_align = mean ||f̂(x1) - f̂(x2)||² (Huang et al. Eq. 4; Wang–Isola α = 2). */
  alignment: number;
  alignmentAlpha: { alpha: number; value: number };
  /** Wang–Isola uniformity (t), averaged over the two views. */
  uniformity: number;
  uniformityPoints: number;
  classAlignment: ClassAlignment[];
  divergence: CenterDivergence;
  concentration: Concentration;
  /** R_ε for each ε of the grid. */
  rEpsilon: { epsilons: number[]; values: number[] };
  minClassProbability: number;
  bound: BoundTerms & { search: 'fixed' | 'grid'; pairsTried: number; pairsHolding: number };
  /** Nearest-centre accuracy: centres from the even-ranked images of each class, tested on the odd-ranked ones. */
  nearestCenter: (NearestCenterAccuracy & { protocol: string }) | null;
}

const STAGES = ['alignment', 'uniformity', 'centres', 'concentration', 'nearest-centre'];

/** Every metric of this lib on two views of N labelled images, plus the bound terms of Theorem 1. */
export async function measureEmbeddings(
  v1: EmbeddingInput,
  v2: EmbeddingInput,
  labels: LabelInput,
  options: MeasureOptions = {},
): Promise<MeasureReport> {
  const alpha = options.alpha ?? 1;
  checkPositive(alpha, 'alpha');
  const t = options.t ?? 2;
  checkPositive(t, 't');
  const lipschitz = options.lipschitz ?? 1;
  checkPositive(lipschitz, 'lipschitz');
  const maxPoints = options.uniformityMaxPoints ?? 10000;
  checkPositiveInteger(maxPoints, 'uniformityMaxPoints');
  const seed = options.seed ?? 0;
  const raw1 = toEmbeddingMatrix(v1, 'v1');
  const raw2 = toEmbeddingMatrix(v2, 'v2');
  checkSameShape(raw1, raw2, 'v1', 'v2');
  const a = normalizeRows(raw1, 'v1');
  const b = normalizeRows(raw2, 'v2');
  const extra = (options.extraViews ?? []).map((v, i) => {
    const m = toEmbeddingMatrix(v, `extraViews[${i}]`);
    checkSameShape(raw1, m, 'v1', `extraViews[${i}]`);
    return normalizeRows(m, `extraViews[${i}]`);
  });
  const n = rowCount(a);
  const cls = indexLabels(labels, n);
  if (cls.classIds.length < 2) throw new Error(`measureEmbeddings needs at least 2 classes, got ${cls.classIds.length}; check the labels.`);
  const deltas = checkGrid(options.deltas ?? [...DEFAULT_DELTAS], 'deltas');
  const epsilons = checkGrid(options.epsilons ?? deltas, 'epsilons');
  if (options.epsilon !== undefined) checkPositive(options.epsilon, 'epsilon');
  const progress = async (done: number) => {
    options.onProgress?.(STAGES[done] ?? 'done', done, STAGES.length);
    await new Promise((r) => setImmediate(r));
  };

  await progress(0);
  const distances = viewDistancesOf(raw1, raw2); // from the raw rows: normalizing in float64 keeps the small distances exact
  const classSums = new Float64Array(cls.classIds.length);
  for (let i = 0; i < n; i++) classSums[cls.index[i]!] += distances[i]! ** 2;
  const classAlignment = cls.classIds.map((classId, k) => ({ classId, count: cls.counts[k]!, alignment: classSums[k]! / cls.counts[k]! }));

  await progress(1);
  const subset = n > maxPoints ? sampleIndices(n, maxPoints, seed) : undefined;
  const u = (m: typeof a) => uniformityOfNormalized(subset ? gatherRows(m, subset) : m, t, options.blockRows);
  const uniformity = n >= 2 ? (u(a) + u(b)) / 2 : NaN;

  await progress(2);
  const divergence = divergenceOfCenters(classCentersOf([raw1, raw2], cls), { blockRows: options.blockRows, histogramBins: options.histogramBins });

  await progress(3);
  const conc = concentrationOf([a, b, ...extra], cls, deltas, true, { candidates: options.candidates, seed, blockRows: options.blockRows });

  await progress(4);
  const nearestCenter = splitNearestCenter(raw1, raw2, cls, options.blockRows);

  const minClassProbability = cls.counts.reduce((m, c) => Math.min(m, c), Infinity) / n;
  const rValues = epsilons.map((e) => fractionAbove(distances, e));
  const bound = searchBound(conc, epsilons, rValues, divergence, minClassProbability, lipschitz, options.delta, options.epsilon, distances);
  options.onProgress?.('done', STAGES.length, STAGES.length);
  return {
    images: n,
    dim: a.dim,
    classes: cls.classIds.length,
    alignment: meanPower(distances, 2),
    alignmentAlpha: { alpha, value: meanPower(distances, alpha) },
    uniformity,
    uniformityPoints: subset ? subset.length : n,
    classAlignment,
    divergence,
    concentration: conc,
    rEpsilon: { epsilons, values: rValues },
    minClassProbability,
    bound,
    nearestCenter,
  };
}

function checkGrid(values: number[], name: string): number[] {
  if (!Array.isArray(values) || values.length === 0) throw new Error(`${name} must be a non-empty array of numbers > 0.`);
  for (const v of values) if (!(Number.isFinite(v) && v > 0)) throw new Error(`${name} must hold finite numbers > 0, got ${v}.`);
  return [...new Set(values)].sort((x, y) => x - y);
}

function searchBound(
  conc: Concentration,
  epsilons: number[],
  rValues: number[],
  divergence: CenterDivergence,
  minClassProbability: number,
  lipschitz: number,
  fixedDelta: number | undefined,
  fixedEpsilon: number | undefined,
  distances: Float64Array,
): MeasureReport['bound'] {
  let deltaIdx = conc.deltas.map((_, i) => i);
  if (fixedDelta !== undefined) {
    const i = conc.deltas.indexOf(fixedDelta);
    if (i < 0) throw new Error(`delta ${fixedDelta} is not on the δ grid (${conc.deltas.join(', ')}); add it to deltas.`);
    deltaIdx = [i];
  }
  const eps = fixedEpsilon !== undefined ? [{ e: fixedEpsilon, r: fractionAbove(distances, fixedEpsilon) }] : epsilons.map((e, i) => ({ e, r: rValues[i]! }));
  let best: BoundTerms | undefined;
  let holding = 0;
  // Among pairs where the divergence condition holds, the smallest error bound; if none holds, the pair
  // that comes closest (largest threshold - µ_kᵀµ_l margin).
  const better = (x: BoundTerms, y: BoundTerms | undefined) => {
    if (!y) return true;
    if (x.divergenceHolds !== y.divergenceHolds) return x.divergenceHolds;
    if (x.divergenceHolds) return x.errorBound < y.errorBound || (x.errorBound === y.errorBound && x.rhoMax < y.rhoMax);
    return x.divergenceThreshold > y.divergenceThreshold;
  };
  for (const i of deltaIdx) {
    for (const { e, r } of eps) {
      const terms = boundTerms({
        sigma: conc.sigma[i]!,
        delta: conc.deltas[i]!,
        epsilon: e,
        rEpsilon: r,
        minClassProbability,
        maxInnerProduct: divergence.maxInnerProduct,
        deltaMu: divergence.deltaMu,
        lipschitz,
      });
      if (terms.divergenceHolds) holding++;
      if (better(terms, best)) best = terms;
    }
  }
  return { ...best!, search: deltaIdx.length * eps.length === 1 ? 'fixed' : 'grid', pairsTried: deltaIdx.length * eps.length, pairsHolding: holding };
}

function splitNearestCenter(
  a: ReturnType<typeof normalizeRows>,
  b: ReturnType<typeof normalizeRows>,
  cls: ReturnType<typeof indexLabels>,
  blockRows: number | undefined,
): MeasureReport['nearestCenter'] {
  const seen = new Int32Array(cls.classIds.length);
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < cls.index.length; i++) (seen[cls.index[i]!]!++ % 2 === 0 ? train : test).push(i);
  if (test.length === 0) return null;
  const sub = (rows: number[]) => {
    const index = Int32Array.from(rows, (i) => cls.index[i]!);
    return { views: [gatherRows(a, rows), gatherRows(b, rows)], index };
  };
  const tr = sub(train);
  const counts = new Array<number>(cls.classIds.length).fill(0);
  for (const k of tr.index) counts[k]!++;
  const centers = classCentersOf(tr.views, { index: tr.index, classIds: cls.classIds, counts });
  const te = sub(test);
  const result = nearestCenterAccuracyOf(centers, { x: te.views, labels: Array.from(te.index, (k) => cls.classIds[k]!) }, { blockRows });
  return { ...result, protocol: 'centres from both views of the even-ranked images of each class; both views of the odd-ranked images tested' };
}
