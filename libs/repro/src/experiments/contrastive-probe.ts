// How experiment 4 measures one trained encoder on held-out identities. Huang et al. bound the downstream error of
// an encoder by its alignment, center divergence and concentration under ONE augmentation (Theorem 1), and the
// downstream classifier sees clean images. Probing each run only with its own training augmentation mixes two
// things: stronger augmentation moves the two views apart, so alignment grows with the augmentation, not only
// with the encoder. So every run is measured three ways: accuracy on clean images, the three quantities under one
// fixed probe augmentation shared by all runs, and the same quantities under the run's own augmentation.
import { augment, makeRng, type AugmentOptions } from '@facet/data';
import { embed, type EmbeddingModel } from '@facet/eval';
import { measureEmbeddings, nearestCenterAccuracy } from '@facet/metrics';

export interface ProbeImages {
  imgs: Uint8Array[];
  labels: Int32Array;
  imageSize: number;
}

/** The bound's three quantities under one augmentation. */
export interface ProbeQuantities {
  alignment: number;
  /** Largest cosine between two class centers (lower = more divergence). */
  maxCos: number;
  /** Concentration summarised as the mean of σ(δ) over the δ grid. */
  sigma: number;
}

/** Views are drawn from this seed whatever the run's seed, so every run of the fixed probe sees the same images. */
export const FIXED_PROBE_SEED = 2048;

export async function probeQuantities(
  model: EmbeddingModel,
  probe: ProbeImages,
  aug: AugmentOptions,
  seed: number,
  options: { candidates: number },
): Promise<ProbeQuantities> {
  const rng = makeRng(seed);
  const v1 = probe.imgs.map((img) => augment(img, probe.imageSize, aug, rng));
  const v2 = probe.imgs.map((img) => augment(img, probe.imageSize, aug, rng));
  const e1 = await embed(model, v1, { flip: false });
  const e2 = await embed(model, v2, { flip: false });
  const dim = e1.length / probe.imgs.length;
  const rep = await measureEmbeddings({ data: e1, dim }, { data: e2, dim }, probe.labels, { candidates: options.candidates, seed });
  const ms = rep.concentration.meanSigma;
  return {
    alignment: rep.alignment,
    maxCos: rep.divergence.maxPairwiseCosine,
    sigma: ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : NaN,
  };
}

/**
 * Downstream accuracy on clean (unaugmented) images: class centers from the even-ranked images of each identity,
 * the odd-ranked images classified by the nearest center (Huang et al. §2).
 */
export async function cleanNearestCenterAccuracy(model: EmbeddingModel, probe: ProbeImages): Promise<number> {
  const e = await embed(model, probe.imgs, { flip: false });
  const dim = e.length / probe.imgs.length;
  const rank = new Map<number, number>();
  const split = { train: [] as number[], test: [] as number[] };
  probe.labels.forEach((label, i) => {
    const r = rank.get(label) ?? 0;
    rank.set(label, r + 1);
    (r % 2 === 0 ? split.train : split.test).push(i);
  });
  const pick = (rows: number[]) => {
    const data = new Float32Array(rows.length * dim);
    rows.forEach((row, k) => data.set(e.subarray(row * dim, (row + 1) * dim), k * dim));
    return { x: { data, dim }, labels: Int32Array.from(rows, (row) => probe.labels[row]!) };
  };
  return nearestCenterAccuracy(pick(split.train), pick(split.test)).accuracy;
}
