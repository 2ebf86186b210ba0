// The "no model" baseline: cosine similarity between raw normalised pixel vectors, with the single best threshold
// over all pairs. A face set on which this reaches ~100 % measures nothing; the synthetic set targets 60–75 %.

import { normalizeImages } from '../normalize.js';
import type { VerificationSet } from './types.js';

export interface ThresholdAccuracy {
  accuracy: number;
  threshold: number;
}

/** Best accuracy of "same iff score ≥ t" over all thresholds t (higher score = more similar). */
export function bestThresholdAccuracy(scores: ArrayLike<number>, issame: ArrayLike<boolean>): ThresholdAccuracy {
  const n = scores.length;
  if (n === 0 || issame.length !== n) throw new Error(`bestThresholdAccuracy: ${n} scores for ${issame.length} labels`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const positives = Array.from(issame).filter(Boolean).length;
  // threshold below everything: all predicted same
  let correct = positives;
  let best = correct;
  let bestT = scores[order[0]!]! - 1e-9;
  for (let i = 0; i < n; i++) {
    // move order[i] to "different"
    correct += issame[order[i]!] ? -1 : 1;
    const next = i + 1 < n ? scores[order[i + 1]!]! : Infinity;
    if (next === scores[order[i]!]!) continue; // ties move together
    if (correct > best) {
      best = correct;
      bestT = next === Infinity ? scores[order[i]!]! + 1e-9 : (scores[order[i]!]! + next) / 2;
    }
  }
  return { accuracy: best / n, threshold: bestT };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/** Raw-pixel verification: cosine on (x − 127.5)/127.5 pixels, best single threshold. */
export function rawPixelVerification(set: VerificationSet): ThresholdAccuracy & { scores: Float64Array } {
  const scores = new Float64Array(set.issame.length);
  for (let i = 0; i < scores.length; i++) scores[i] = cosine(normalizeImages(set.imagesA[i]!), normalizeImages(set.imagesB[i]!));
  return { ...bestThresholdAccuracy(scores, set.issame), scores };
}
