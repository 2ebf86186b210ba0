import { tf } from '@facet/engine';
import { assertFinite, l2NormalizeRows, rowCount } from './rows.js';

export interface LabelledEmbeddings {
  /** [N, dim] row-major (normalised here; any scale is fine). */
  embeddings: Float32Array;
  labels: Int32Array;
}

export interface IdentificationOptions {
  /** Ranks at which to evaluate the CMC (default 1..20). */
  ranks?: number[];
  /** Probes scored per similarity matmul (default 1024; bounds memory at chunk × gallery floats). */
  chunk?: number;
}

export interface IdentificationResult {
  /** Fraction of probes whose identity ranks first. */
  rank1: number;
  /** Fraction of probes whose identity is among the top 5 identities. */
  rank5: number;
  /** The ranks of `cmc`, ascending. */
  ranks: Int32Array;
  /** Cumulative match characteristic: cmc[i] = fraction of probes whose identity ranks ≤ ranks[i]. */
  cmc: Float64Array;
  probes: number;
  galleryItems: number;
  galleryClasses: number;
}

/**
 * Closed-set 1:N identification by cosine similarity. Gallery identities are ranked by their best-matching
 * gallery sample; a probe's rank is 1 + the number of other identities scoring at least as high as its own
 * (ties count against the probe, so constant embeddings cannot score well).
 */
export function identification(
  gallery: LabelledEmbeddings,
  probes: LabelledEmbeddings,
  opts: IdentificationOptions = {},
): IdentificationResult {
  const g = gallery.labels.length;
  const p = probes.labels.length;
  if (g === 0 || p === 0) throw new Error(`identification needs a non-empty gallery and probe set (got ${g} gallery, ${p} probes).`);
  const dim = gallery.embeddings.length / g;
  rowCount(gallery.embeddings, dim, 'gallery embeddings');
  if (!Number.isInteger(dim) || probes.embeddings.length !== p * dim) {
    throw new Error(`gallery is ${gallery.embeddings.length / g}-d per label but probes have ${probes.embeddings.length / p} values per label; they must match.`);
  }
  assertFinite(gallery.embeddings, 'gallery embeddings');
  assertFinite(probes.embeddings, 'probe embeddings');
  const ranks = Int32Array.from(opts.ranks ?? Array.from({ length: 20 }, (_, i) => i + 1)).sort();
  if (ranks.length === 0 || ranks[0]! < 1) throw new Error('identification ranks must be integers ≥ 1.');
  const chunk = opts.chunk ?? 1024;

  const classOf = new Map<number, number>();
  const galleryClass = Int32Array.from(gallery.labels, (l) => {
    if (!classOf.has(l)) classOf.set(l, classOf.size);
    return classOf.get(l)!;
  });
  const C = classOf.size;
  const probeClass = Int32Array.from(probes.labels, (l) => classOf.get(l) ?? -1);
  const missing = probeClass.reduce((s, c) => s + (c < 0 ? 1 : 0), 0);
  if (missing > 0) {
    throw new Error(`${missing} probes have an identity with no gallery sample; closed-set identification needs every probe identity in the gallery (use gallerySplit).`);
  }

  const gn = l2NormalizeRows(gallery.embeddings, dim);
  const pn = l2NormalizeRows(probes.embeddings, dim);
  const rankOf = new Int32Array(p);
  const gT = tf.tensor2d(gn, [g, dim]);
  try {
    const best = new Float32Array(C);
    for (let start = 0; start < p; start += chunk) {
      const end = Math.min(p, start + chunk);
      const sim = tf.tidy(() => tf.matMul(tf.tensor2d(pn.subarray(start * dim, end * dim), [end - start, dim]), gT, false, true));
      const s = sim.dataSync();
      sim.dispose();
      for (let i = start; i < end; i++) {
        best.fill(-Infinity);
        const row = (i - start) * g;
        for (let j = 0; j < g; j++) {
          const c = galleryClass[j]!;
          if (s[row + j]! > best[c]!) best[c] = s[row + j]!;
        }
        const own = best[probeClass[i]!]!;
        let ahead = 0;
        for (let c = 0; c < C; c++) if (c !== probeClass[i] && best[c]! >= own) ahead++;
        rankOf[i] = ahead + 1;
      }
    }
  } finally {
    gT.dispose();
  }
  const within = (k: number) => rankOf.reduce((s, r) => s + (r <= k ? 1 : 0), 0) / p;
  return {
    rank1: within(1),
    rank5: within(5),
    ranks,
    cmc: Float64Array.from(ranks, within),
    probes: p,
    galleryItems: g,
    galleryClasses: C,
  };
}
