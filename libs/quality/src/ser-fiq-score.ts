// SER-FIQ (Terhörst et al., "SER-FIQ: Unsupervised Estimation of Face Image Quality Based on Stochastic Embedding
// Robustness", CVPR 2020): m embeddings of one image through randomly dropped-out sub-networks; the quality is
// q = 2·σ(−mean_{i<j} ‖x̂_i − x̂_j‖) over the m(m−1)/2 distinct pairs of normalised samples, as the authors' code
// (pterhoer/FaceImageQuality) computes it. The paper writes the exponent as (2/m²)Σ_{i<j}, a constant factor
// (m−1)/m away: the ranking of images, all an ERC sees, is the same.
import { rowCount, unitRows, type NumericArray } from './vectors.js';

/**
 * SER-FIQ quality of each image from `samples` = [N, m, D] row-major stochastic embeddings (raw or normalised).
 * Returns N scores in (0, 1]; 1 means every sample agreed.
 */
export function serFiqScores(samples: NumericArray, samplesPerImage: number, dim: number): Float64Array {
  if (!Number.isInteger(samplesPerImage) || samplesPerImage < 2) throw new Error(`serFiqScores: samplesPerImage must be an integer ≥ 2 (got ${samplesPerImage}); SER-FIQ uses m = 100.`);
  const rows = rowCount('serFiqScores', samples, dim);
  if (rows % samplesPerImage !== 0) throw new Error(`serFiqScores: ${rows} sample rows are not a whole number of images × ${samplesPerImage} samples.`);
  const m = samplesPerImage;
  const n = rows / m;
  const x = unitRows(samples, dim);
  const out = new Float64Array(n);
  for (let img = 0; img < n; img++) {
    const base = img * m;
    let sum = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) {
        let d2 = 0;
        for (let k = 0; k < dim; k++) {
          const diff = x[(base + i) * dim + k]! - x[(base + j) * dim + k]!;
          d2 += diff * diff;
        }
        sum += Math.sqrt(d2);
      }
    }
    out[img] = 2 / (1 + Math.exp(sum / ((m * (m - 1)) / 2)));
  }
  return out;
}
