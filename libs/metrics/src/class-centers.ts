import {
  checkSameShape,
  indexLabels,
  rowCount,
  rowSquaredNorms,
  toEmbeddingMatrix,
  type EmbeddingInput,
  type EmbeddingMatrix,
  type LabelInput,
} from './embedding-matrix.js';

/** Class centres µ_k, row-major K × dim, float64. */
export interface ClassCenters {
  dim: number;
  /** Original label of row k. */
  classIds: number[];
  /** Source rows (images) per class; each contributes one embedding per view. */
  counts: number[];
  /** Number of views averaged (1 for a single matrix, 2 for [v1, v2]). */
  views: number;
  centers: Float64Array;
  /** ||µ_k||² (≤ 1; 1 - min of it is Δ_µ). */
  squaredNorms: Float64Array;
}

/** One matrix, or several views whose row i all show image i (so share labels[i]). */
export type ViewsInput = EmbeddingInput | EmbeddingInput[];

export function toViews(x: ViewsInput, name: string): EmbeddingMatrix[] {
  const isList = Array.isArray(x) && x.length > 0 && !isRowArray(x);
  const views = isList ? (x as EmbeddingInput[]).map((v, i) => toEmbeddingMatrix(v, `${name}[${i}]`)) : [toEmbeddingMatrix(x as EmbeddingInput, name)];
  for (let i = 1; i < views.length; i++) checkSameShape(views[0]!, views[i]!, `${name}[0]`, `${name}[${i}]`);
  return views;
}

/** An array of plain rows (number[][] / Float32Array[]) is one matrix, not a list of views. */
function isRowArray(x: unknown[]): boolean {
  const first = x[0];
  return Array.isArray(first) ? typeof first[0] === 'number' || first.length === 0 : ArrayBuffer.isView(first);
}

/**
 * Class centres µ_k = E_{x∈C_k} E_{x'∈A(x)} f̂(x') (Huang et al. §3): the mean of the L2-normalized embeddings
 * of class k over all given views, deliberately **not** renormalized: ||µ_k|| < 1 measures how spread the class
 * is, and the bound needs the raw inner products µ_kᵀµ_l and Δ_µ = 1 - min_k ||µ_k||².
 */
export function classCenters(x: ViewsInput, labels: LabelInput): ClassCenters {
  const views = toViews(x, 'x');
  const n = rowCount(views[0]!);
  return classCentersOf(views, indexLabels(labels, n));
}

export function classCentersOf(
  views: EmbeddingMatrix[],
  cls: { index: Int32Array; classIds: number[]; counts: number[] },
): ClassCenters {
  const dim = views[0]!.dim;
  const k = cls.classIds.length;
  const centers = new Float64Array(k * dim);
  for (const [vi, v] of views.entries()) {
    const norms = rowSquaredNorms(v);
    const n = rowCount(v);
    for (let i = 0; i < n; i++) {
      const s = Math.sqrt(norms[i]!);
      if (!(s > 0)) throw new Error(`x[${vi}]: row ${i} has zero norm, so it cannot be L2-normalized; drop that embedding.`);
      const o = cls.index[i]! * dim;
      for (let j = 0; j < dim; j++) centers[o + j] += v.data[i * dim + j]! / s;
    }
  }
  const squaredNorms = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const w = 1 / (cls.counts[c]! * views.length);
    let s = 0;
    for (let j = 0; j < dim; j++) {
      centers[c * dim + j] *= w;
      s += centers[c * dim + j]! ** 2;
    }
    squaredNorms[c] = s;
  }
  return { dim, classIds: cls.classIds, counts: cls.counts, views: views.length, centers, squaredNorms };
}
