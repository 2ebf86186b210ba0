import { mulberry32 } from '@facet/engine';

export interface GallerySplitOptions {
  /** Seed of the per-class random choice (default 0). */
  seed?: number;
  /** Gallery samples per identity (default 1); the rest of the identity's samples become probes. */
  galleryPerClass?: number;
}

export interface GallerySplit {
  /** Sample indices in the gallery, ascending. */
  gallery: Int32Array;
  /** Sample indices used as probes, ascending. */
  probes: Int32Array;
  /** Identities with no probe (≤ galleryPerClass samples): they stay in the gallery as distractors. */
  galleryOnlyClasses: number;
}

/**
 * Closed-set 1:N split of a labelled set: for each identity pick `galleryPerClass` samples at random (seeded)
 * for the gallery; its other samples are probes. Identities too small to give a probe stay in the gallery, so
 * they still compete as distractors.
 */
export function gallerySplit(labels: Int32Array, opts: GallerySplitOptions = {}): GallerySplit {
  const perClass = opts.galleryPerClass ?? 1;
  if (!(Number.isInteger(perClass) && perClass >= 1)) throw new Error(`galleryPerClass=${perClass} is invalid; use an integer ≥ 1.`);
  const rand = mulberry32(opts.seed ?? 0);
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => {
    const list = byClass.get(l);
    if (list) list.push(i);
    else byClass.set(l, [i]);
  });
  const gallery: number[] = [];
  const probes: number[] = [];
  let galleryOnly = 0;
  for (const idx of byClass.values()) {
    if (idx.length <= perClass) {
      gallery.push(...idx);
      galleryOnly++;
      continue;
    }
    // Partial Fisher–Yates: the first perClass slots become a uniform random subset.
    const a = idx.slice();
    for (let i = 0; i < perClass; i++) {
      const j = i + Math.floor(rand() * (a.length - i));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    gallery.push(...a.slice(0, perClass));
    probes.push(...a.slice(perClass));
  }
  const asc = (v: number[]) => Int32Array.from(v).sort();
  return { gallery: asc(gallery), probes: asc(probes), galleryOnlyClasses: galleryOnly };
}
