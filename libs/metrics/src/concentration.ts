import { forEachGramBlock, DEFAULT_BLOCK_ROWS } from './blocked-gram.js';
import {
  checkPositiveInteger,
  checkSameShape,
  indexLabels,
  normalizeRows,
  rowCount,
  rowSquaredNorms,
  sampleIndices,
  toEmbeddingMatrix,
  type EmbeddingInput,
  type ClassIndex,
  type EmbeddingMatrix,
  type LabelInput,
} from './embedding-matrix.js';

export interface ConcentrationOptions {
  /**
   * The δ grid (diameters of the main part). Default when normalized: 0.1, 0.2, …, 2.0 (distances between unit
   * vectors lie in [0, 2]). Required when `normalize` is false, since distances are then in input units.
   */
  deltas?: number[];
  /** Ball centres tried per class (a seeded random subset of its samples when larger); default 256. */
  candidates?: number;
  /** L2-normalize rows first (embeddings); false measures raw vectors, e.g. flattened pixels. Default true. */
  normalize?: boolean;
  /** Seed of the candidate subset; default 0. */
  seed?: number;
  /** Rows per matmul tile; default 1024. */
  blockRows?: number;
}

export interface ClassConcentration {
  classId: number;
  count: number;
  /** σ_k(δ) for each δ of the grid. */
  sigma: number[];
}

/** Empirical (σ, δ) concentration of augmented data (Huang et al. Def. 1), one σ per δ. */
export interface Concentration {
  deltas: number[];
  /** σ(δ) = min_k σ_k(δ): Def. 1 requires the main part to hold a σ fraction of *every* class. */
  sigma: number[];
  /** Σ_k n_k σ_k(δ) / N: the mass of the union of main parts (what 1-σ in Lemma 3.1 charges as error). */
  meanSigma: number[];
  perClass: ClassConcentration[];
  candidates: number;
  normalized: boolean;
  /** Sampled views per image that d_A minimizes over. */
  views: number;
}

export const DEFAULT_DELTAS: readonly number[] = Array.from({ length: 20 }, (_, i) => Math.round((i + 1) * 10) / 100);

/**
 * Concentration estimate. The augmented distance d_A(a, b) = min over view pairs ||z_a^i - z_b^j|| (Eq. 1,
 * approximated by the sampled views of each image: 2 here, V with `concentrationFromViews`). The main part
 * C_k^0 of class k should be a large subset of diameter ≤ δ; finding the largest one is a max-clique problem,
 * so we use a ball of radius δ/2 around the best centre c (diameter ≤ δ by the triangle inequality):
 *   σ_k(δ) = max_c |{x ∈ C_k : d_A(x, c) ≤ δ/2}| / |C_k|,
 * with c over `candidates` samples of the class. Rows are processed per class and tile by tile.
 */
export function concentration(
  v1: EmbeddingInput,
  v2: EmbeddingInput,
  labels: LabelInput,
  options: ConcentrationOptions = {},
): Concentration {
  return concentrationFromViews([v1, v2], labels, options);
}

/**
 * The same estimate from V ≥ 1 sampled views per image (row i of every view = image i). More views approximate
 * the min over A(x) of Eq. 1 better; with a richer augmentation family that min can only shrink, so σ(δ) grows
 * (Huang et al. §2: A ⊆ A' ⇒ d_A' ≤ d_A).
 */
export function concentrationFromViews(views: EmbeddingInput[], labels: LabelInput, options: ConcentrationOptions = {}): Concentration {
  if (!Array.isArray(views) || views.length === 0) throw new Error('concentrationFromViews: pass a non-empty array of view matrices.');
  const normalized = options.normalize ?? true;
  const name = (i: number) => (views.length === 2 ? `v${i + 1}` : `views[${i}]`);
  let mats = views.map((v, i) => toEmbeddingMatrix(v, name(i)));
  for (let i = 1; i < mats.length; i++) checkSameShape(mats[0]!, mats[i]!, name(0), name(i));
  if (normalized) mats = mats.map((m, i) => normalizeRows(m, name(i)));
  const deltas = checkDeltas(options.deltas ?? (normalized ? [...DEFAULT_DELTAS] : undefined));
  return concentrationOf(mats, indexLabels(labels, rowCount(mats[0]!)), deltas, normalized, options);
}

/** Concentration of already validated (and, if wanted, normalized) views with indexed labels. */
export function concentrationOf(
  views: EmbeddingMatrix[],
  cls: ClassIndex,
  deltas: number[],
  normalized: boolean,
  options: Pick<ConcentrationOptions, 'candidates' | 'seed' | 'blockRows'>,
): Concentration {
  deltas = checkDeltas(deltas);
  const candidates = options.candidates ?? 256;
  checkPositiveInteger(candidates, 'concentration candidates');
  const blockRows = options.blockRows ?? DEFAULT_BLOCK_ROWS;
  checkPositiveInteger(blockRows, 'blockRows');
  const n = rowCount(views[0]!);
  const members: number[][] = cls.classIds.map(() => []);
  for (let i = 0; i < n; i++) members[cls.index[i]!]!.push(i);
  const radius2 = deltas.map((d) => (d / 2) ** 2);
  const perClass = members.map((rows, k) => ({
    classId: cls.classIds[k]!,
    count: rows.length,
    sigma: classSigma(views, rows, radius2, candidates, (options.seed ?? 0) + k, blockRows),
  }));
  const sigma = deltas.map((_, t) => perClass.reduce((m, c) => Math.min(m, c.sigma[t]!), 1));
  const meanSigma = deltas.map((_, t) => perClass.reduce((s, c) => s + c.count * c.sigma[t]!, 0) / n);
  return { deltas, sigma, meanSigma, perClass, candidates, normalized, views: views.length };
}

function checkDeltas(deltas: number[] | undefined): number[] {
  if (!deltas) throw new Error('concentration: pass `deltas` (in input units) when normalize is false.');
  if (!Array.isArray(deltas) || deltas.length === 0) throw new Error('concentration deltas must be a non-empty array of numbers > 0.');
  for (const d of deltas) {
    if (!(Number.isFinite(d) && d > 0)) throw new Error(`concentration deltas must be finite numbers > 0, got ${d}.`);
  }
  return [...new Set(deltas)].sort((x, y) => x - y);
}

/** The V views of each image on consecutive rows (image i → rows V·i … V·i+V-1), so tiles of a multiple of V rows hold whole images. */
function interleave(views: EmbeddingMatrix[], rows: ArrayLike<number>): EmbeddingMatrix {
  const dim = views[0]!.dim;
  const v = views.length;
  const data = new Float32Array(rows.length * v * dim);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    views.forEach((m, u) => data.set(m.data.subarray(r * dim, (r + 1) * dim), (v * i + u) * dim));
  }
  return { data, dim };
}

function classSigma(views: EmbeddingMatrix[], rows: number[], radius2: number[], candidates: number, seed: number, blockRows: number): number[] {
  const v = views.length;
  const picks = sampleIndices(rows.length, candidates, seed);
  const samples = interleave(views, rows);
  const centres = interleave(views, Array.from(picks, (p) => rows[p]!));
  const sn = rowSquaredNorms(samples);
  const cn = rowSquaredNorms(centres);
  const m = picks.length;
  const steps = radius2.length;
  // hist[j*steps + t]: samples whose distance to centre j first fits radius t.
  const hist = new Int32Array(m * steps);
  const tile = Math.max(v, blockRows - (blockRows % v));
  forEachGramBlock(
    samples,
    centres,
    ({ rowStart, colStart, rows: tr, cols: tc, values }) => {
      for (let r = 0; r < tr; r += v) {
        for (let c = 0; c < tc; c += v) {
          let d2 = Infinity;
          for (let p = 0; p < v; p++) {
            for (let q = 0; q < v; q++) {
              const e = sn[rowStart + r + p]! + cn[colStart + c + q]! - 2 * values[(r + p) * tc + c + q]!;
              if (e < d2) d2 = e;
            }
          }
          d2 = Math.max(0, d2);
          // first radius that contains d2 (radii ascending)
          let lo = 0;
          let hi = steps;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (radius2[mid]! >= d2) hi = mid;
            else lo = mid + 1;
          }
          if (lo < steps) hist[((colStart + c) / v) * steps + lo]!++;
        }
      }
    },
    { blockRows: tile },
  );
  const best = new Array<number>(steps).fill(0);
  for (let j = 0; j < m; j++) {
    let cum = 0;
    for (let t = 0; t < steps; t++) {
      cum += hist[j * steps + t]!;
      if (cum > best[t]!) best[t] = cum;
    }
  }
  return best.map((c) => c / rows.length);
}
