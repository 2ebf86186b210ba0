// Recognizability index (RI, RER: Chai et al., CVPR 2023). The paper builds ξ_i from two criteria (theory.md §3.1):
//   (i)  the proximity of the embedding to the unrecognizable-identity (UI) centre — far from it is recognizable;
//   (ii) its closeness to its positive class prototype against the nearest negative prototype.
// The paper's exact equations were not available, so Facet uses this form (theory.md §3.3, constants as options):
//   cu = v̂·f_UI,  cy = v̂·ŵ_y,  cn = max_{j≠y} v̂·ŵ_j
//   u  = clamp((1 − cu)/s, 0, 1)       s = uiScale: 1 gives Deng et al.'s ERS min(1 − cu, 1); 2 gives the proxy's dUI/2
//   c  = sigmoid(k·(cy − cn))          k = sharpness (10): 0.5 on the decision boundary, → 1 when well inside the class
//   ξ  = u · c ∈ [0, 1]
// The product makes either criterion alone enough to call a face unrecognizable. Without labels (test time) the
// positive is the nearest prototype and the negative the second nearest.
import { checkUiCenter } from './ui-center.js';
import { rowCount, rowDot, unitRows, type NumericArray } from './vectors.js';

export interface RecognizabilityIndexOptions {
  /** k in c = sigmoid(k·(cy − cn)). Default 10 (theory.md §3.3). */
  sharpness?: number;
  /** s in u = clamp((1 − cos_UI)/s, 0, 1). Default 1 (ERS); 2 = the §3.3 proxy dUI/2. */
  uiScale?: number;
}

export const RECOGNIZABILITY_INDEX_DEFAULTS: Required<RecognizabilityIndexOptions> = { sharpness: 10, uiScale: 1 };

export function resolveIndexOptions(o: RecognizabilityIndexOptions = {}, where = 'recognizabilityIndex'): Required<RecognizabilityIndexOptions> {
  const r = { ...RECOGNIZABILITY_INDEX_DEFAULTS, ...o };
  if (!(typeof r.sharpness === 'number' && r.sharpness > 0 && Number.isFinite(r.sharpness))) {
    throw new Error(`${where}: sharpness must be a finite number > 0 (got ${String(r.sharpness)}); the default is 10.`);
  }
  if (!(typeof r.uiScale === 'number' && r.uiScale > 0 && Number.isFinite(r.uiScale))) {
    throw new Error(`${where}: uiScale must be a finite number > 0 (got ${String(r.uiScale)}); 1 = ERS, 2 = the dUI/2 proxy.`);
  }
  return r;
}

export interface RecognizabilityIndex {
  /** ξ per embedding, in [0, 1]; higher = more recognizable. */
  index: Float64Array;
  /** Criterion (i): u = clamp((1 − cos_UI)/s, 0, 1). */
  uiTerm: Float64Array;
  /** Criterion (ii): c = sigmoid(k·(cy − cn)). */
  classTerm: Float64Array;
  cosUi: Float64Array;
  cosPositive: Float64Array;
  cosNegative: Float64Array;
  /** The positive prototype used (the label, or the nearest prototype without labels). */
  positive: Int32Array;
  /** The nearest negative prototype. */
  negative: Int32Array;
}

/** u = clamp((1 − cu)/s, 0, 1). */
export function uiCriterion(cosUi: number, uiScale: number): number {
  return Math.min(1, Math.max(0, (1 - cosUi) / uiScale));
}

/** c = sigmoid(k·(cy − cn)). */
export function classCriterion(cosPositive: number, cosNegative: number, sharpness: number): number {
  return 1 / (1 + Math.exp(-sharpness * (cosPositive - cosNegative)));
}

/**
 * RI of each row of `embeddings` ([N, D] row-major, raw or normalised). `prototypes` are the class prototypes
 * [C, D] (ArcFace class centres, or normalised class means from `classPrototypes`), `uiCenter` the UI centre [D].
 * `labels` (one class index per row) name the positive prototype; without them the nearest prototype is used.
 */
export function recognizabilityIndex(
  embeddings: NumericArray,
  labels: ArrayLike<number> | undefined,
  prototypes: NumericArray,
  uiCenter: NumericArray,
  options: RecognizabilityIndexOptions = {},
): RecognizabilityIndex {
  const o = resolveIndexOptions(options);
  const u = checkUiCenter('recognizabilityIndex', uiCenter);
  const dim = u.length;
  const n = rowCount('recognizabilityIndex: embeddings', embeddings, dim);
  const c = rowCount('recognizabilityIndex: prototypes', prototypes, dim);
  if (c < 2) throw new Error(`recognizabilityIndex: ${c} prototype(s); criterion (ii) compares the positive with the nearest negative, so at least 2 classes are needed.`);
  if (labels !== undefined) {
    if (labels.length !== n) throw new Error(`recognizabilityIndex: ${labels.length} labels for ${n} embeddings; pass one label per row (or none).`);
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= c) throw new Error(`recognizabilityIndex: label ${y} of row ${i} is not a class index in [0, ${c}); labels must index the prototypes.`);
    }
  }
  const v = unitRows(embeddings, dim);
  const w = unitRows(prototypes, dim);
  const out: RecognizabilityIndex = {
    index: new Float64Array(n),
    uiTerm: new Float64Array(n),
    classTerm: new Float64Array(n),
    cosUi: new Float64Array(n),
    cosPositive: new Float64Array(n),
    cosNegative: new Float64Array(n),
    positive: new Int32Array(n),
    negative: new Int32Array(n),
  };
  const cos = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) cos[j] = rowDot(v, i, w, j, dim);
    let pos: number;
    if (labels !== undefined) pos = labels[i]!;
    else {
      pos = 0;
      for (let j = 1; j < c; j++) if (cos[j]! > cos[pos]!) pos = j;
    }
    let neg = pos === 0 ? 1 : 0;
    for (let j = 0; j < c; j++) if (j !== pos && cos[j]! > cos[neg]!) neg = j;
    const cu = rowDot(v, i, u, 0, dim);
    const ut = uiCriterion(cu, o.uiScale);
    const ct = classCriterion(cos[pos]!, cos[neg]!, o.sharpness);
    out.index[i] = ut * ct;
    out.uiTerm[i] = ut;
    out.classTerm[i] = ct;
    out.cosUi[i] = cu;
    out.cosPositive[i] = cos[pos]!;
    out.cosNegative[i] = cos[neg]!;
    out.positive[i] = pos;
    out.negative[i] = neg;
  }
  return out;
}

/** Normalised class-mean embeddings [C, D] (C = max label + 1): prototypes when the head's centres are not at hand. */
export function classPrototypes(embeddings: NumericArray, labels: ArrayLike<number>, dim: number): Float32Array {
  const n = rowCount('classPrototypes', embeddings, dim);
  if (labels.length !== n) throw new Error(`classPrototypes: ${labels.length} labels for ${n} embeddings; pass one label per row.`);
  let c = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0) throw new Error(`classPrototypes: label ${y} of row ${i} must be an integer ≥ 0.`);
    c = Math.max(c, y + 1);
  }
  const v = unitRows(embeddings, dim);
  const sum = new Float64Array(c * dim);
  const count = new Int32Array(c);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    count[y]!++;
    for (let k = 0; k < dim; k++) sum[y * dim + k]! += v[i * dim + k]!;
  }
  const empty = [...count.keys()].filter((y) => count[y] === 0);
  if (empty.length) throw new Error(`classPrototypes: class(es) ${empty.slice(0, 5).join(', ')} have no embeddings; labels must be contiguous 0..C-1.`);
  return Float32Array.from(unitRows(sum, dim));
}
