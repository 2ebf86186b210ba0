// The unrecognizable-identity (UI) centre (Deng et al. 2021, "Harnessing Unrecognizable Faces"; RER §3, theory.md
// §3.2): the normalised mean of the normalised embeddings of faces nobody could recognise. Embeddings of poor
// images collapse towards it, so the angle to it measures recognizability.
import { rowCount, unitRows, type NumericArray } from './vectors.js';

/**
 * f_UI = normalize( (1/N) Σ_i v_i/‖v_i‖ ) over the embeddings of unrecognizable images (raw or normalised rows).
 * Throws when there are no rows or the mean vanishes (embeddings pointing every way have no centre).
 */
export function uiCenter(embeddings: NumericArray, dim: number): Float32Array {
  const n = rowCount('uiCenter', embeddings, dim);
  if (n === 0) throw new Error('uiCenter: no embeddings; pass the embeddings of at least one unrecognizable image.');
  const unit = unitRows(embeddings, dim);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let k = 0; k < dim; k++) mean[k]! += unit[r * dim + k]!;
  let norm = 0;
  for (let k = 0; k < dim; k++) norm += mean[k]! * mean[k]!;
  norm = Math.sqrt(norm) / n;
  if (!(norm > 1e-6)) {
    throw new Error(`uiCenter: the ${n} normalised embeddings average to (almost) zero (|mean| = ${norm.toExponential(2)}); they have no common direction, so they are not a cluster of unrecognizable faces.`);
  }
  const out = new Float32Array(dim);
  for (let k = 0; k < dim; k++) out[k] = mean[k]! / n / norm;
  return out;
}

/** Check a UI centre against an embedding size; returns it as float64 unit vector. */
export function checkUiCenter(what: string, center: NumericArray, dim?: number): Float64Array {
  if (center == null || typeof center.length !== 'number' || center.length === 0) {
    throw new Error(`${what}: the UI centre is missing; build one with uiCenter(embeddings of unrecognizable images, dim).`);
  }
  if (dim !== undefined && center.length !== dim) {
    throw new Error(`${what}: the UI centre has ${center.length} values but the embeddings are ${dim}-d; rebuild the centre with this model.`);
  }
  rowCount(what + ' (UI centre)', center, center.length);
  const u = unitRows(center, center.length);
  if (u.every((v) => v === 0)) throw new Error(`${what}: the UI centre is the zero vector; rebuild it with uiCenter().`);
  return u;
}
