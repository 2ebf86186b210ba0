// Quality measures Facet compares the RI against (all: higher = better):
//  - embedding norm ‖v‖ of the raw embedding (MagFace's observation, also insightface's XNorm): margin losses
//    leave hard, low-quality faces with short embeddings;
//  - ERS = min(1 − cos(v, f_UI), 1) (Deng et al. 2021, "Harnessing Unrecognizable Faces"; theory.md §3.2);
//  - SER-FIQ (Terhörst et al., CVPR 2020): robustness of the embedding under dropout, see ser-fiq.ts.
import { checkUiCenter } from './ui-center.js';
import { rowCount, rowDot, rowNorm, unitRows, type NumericArray } from './vectors.js';

/** ‖v_i‖ of each raw embedding row. */
export function embeddingNorms(embeddings: NumericArray, dim: number): Float64Array {
  const n = rowCount('embeddingNorms', embeddings, dim);
  return Float64Array.from({ length: n }, (_, i) => rowNorm(embeddings, dim, i));
}

/** ERS e_i = min(1 − cos(v_i, f_UI), 1) (embeddings raw or normalised). */
export function embeddingRecognizability(embeddings: NumericArray, uiCenter: NumericArray): Float64Array {
  const u = checkUiCenter('embeddingRecognizability', uiCenter);
  const dim = u.length;
  const n = rowCount('embeddingRecognizability', embeddings, dim);
  const v = unitRows(embeddings, dim);
  return Float64Array.from({ length: n }, (_, i) => Math.min(1 - rowDot(v, i, u, 0, dim), 1));
}
