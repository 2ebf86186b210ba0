// ERC of a model on a verification set: embed both images of every pair, score pairs by cosine (float64), rate
// each image under every measure, and discard by min(q_a, q_b).
import type { Backbone } from '@facet/backbones';
import { errorVersusReject, pairQuality, type ErrorVersusReject, type ErrorVersusRejectOptions } from './error-versus-reject.js';
import { imageQualities, type ImageQualities, type ImageQualityOptions } from './image-qualities.js';
import type { QualityModel } from './quality-model.js';
import { rowDot } from './vectors.js';

/** Pairs of RGB crops (structurally @facet/eval's PairImages / @facet/data's VerificationSet). */
export interface QualityPairs {
  name: string;
  imagesA: Uint8Array[];
  imagesB: Uint8Array[];
  issame: boolean[];
}

export interface PairsQualityResult {
  name: string;
  erc: ErrorVersusReject;
  /** Cosine similarity of each pair (flip-test embeddings). */
  scores: Float64Array;
  /** min(q_a, q_b) per measure. */
  pairQualities: Record<string, Float64Array>;
  /** Image qualities: rows 0..n−1 are the A images, n..2n−1 the B images. */
  images: ImageQualities;
}

export async function pairsErrorVersusReject(
  backbone: Backbone,
  set: QualityPairs,
  quality: QualityModel | undefined,
  opts: ImageQualityOptions & ErrorVersusRejectOptions = {},
): Promise<PairsQualityResult> {
  const n = set.issame.length;
  if (set.imagesA.length !== n || set.imagesB.length !== n) throw new Error(`${set.name}: ${set.imagesA.length}/${set.imagesB.length} images for ${n} pairs; each pair needs two images.`);
  const images = await imageQualities(backbone, [...set.imagesA, ...set.imagesB], quality, opts);
  const d = images.dim;
  const scores = Float64Array.from({ length: n }, (_, i) => rowDot(images.embeddings, i, images.embeddings, n + i, d));
  const pairQualities: Record<string, Float64Array> = {};
  for (const [name, q] of Object.entries(images.measures)) pairQualities[name] = pairQuality(q.subarray(0, n), q.subarray(n));
  const erc = errorVersusReject(scores, set.issame, pairQualities, opts);
  return { name: set.name, erc, scores, pairQualities, images };
}
