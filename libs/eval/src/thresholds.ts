/** The two score conventions of verification. */
export type VerificationMetric = 'cosine' | 'l2';

/**
 * insightface's grid for squared L2 distance between normalised embeddings: `np.arange(0, 4, 0.01)`, 400 values
 * i·0.01 (numpy's arange fills start + i·step, so these are the same doubles). Same pair ⇔ dist < threshold.
 */
export function insightfaceL2Thresholds(): Float64Array {
  return Float64Array.from({ length: 400 }, (_, i) => i * 0.01);
}

/**
 * The equivalent cosine grid: for unit vectors ‖a − b‖² = 2 − 2cos, so dist < t ⇔ cos > 1 − t/2. Kept in the
 * same order as the L2 grid (1 down to −0.995), so that "first best threshold" picks the same grid point.
 */
export function insightfaceCosineThresholds(): Float64Array {
  return Float64Array.from(insightfaceL2Thresholds(), (t) => 1 - t / 2);
}

/** The default grid of a metric. */
export function defaultThresholds(metric: VerificationMetric): Float64Array {
  return metric === 'l2' ? insightfaceL2Thresholds() : insightfaceCosineThresholds();
}

/** A threshold in the metric's units as a cosine similarity (for L2 on unit vectors: cos = 1 − d/2). */
export function thresholdAsCosine(threshold: number, metric: VerificationMetric): number {
  return metric === 'cosine' ? threshold : 1 - threshold / 2;
}
