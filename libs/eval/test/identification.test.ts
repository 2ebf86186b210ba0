import { initEngine } from '@facet/engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { gallerySplit, identification } from '../src/index.js';
import { gauss, rng } from './reference.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

/** Float64 reference: identity scores = best cosine over the identity's gallery rows; rank = 1 + #others ≥ own. */
function referenceRanks(g: Float32Array, gl: Int32Array, p: Float32Array, pl: Int32Array, dim: number): number[] {
  const unit = (a: Float32Array, i: number) => {
    const v = Array.from(a.subarray(i * dim, (i + 1) * dim));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const classes = [...new Set(gl)];
  return Array.from(pl, (label, i) => {
    const q = unit(p, i);
    const best = new Map<number, number>();
    gl.forEach((c, j) => {
      const s = unit(g, j).reduce((acc, x, k) => acc + x * q[k]!, 0);
      best.set(c, Math.max(best.get(c) ?? -Infinity, s));
    });
    return 1 + classes.filter((c) => c !== label && best.get(c)! >= best.get(label)!).length;
  });
}

describe('identification', () => {
  it('hand case in 2-D', () => {
    const gallery = { embeddings: Float32Array.from([1, 0, 0, 1, -1, 0]), labels: Int32Array.from([0, 1, 2]) };
    // Probe of id 0 at (.6, .8): cos to ids 0, 1, 2 = .6, .8, −.6 → rank 2. Probe of id 2 at (−1, .1) → rank 1.
    const probes = { embeddings: Float32Array.from([0.6, 0.8, -1, 0.1]), labels: Int32Array.from([0, 2]) };
    const r = identification(gallery, probes, { ranks: [1, 2, 3] });
    expect(r.rank1).toBe(0.5);
    expect(Array.from(r.cmc)).toEqual([0.5, 1, 1]);
    expect(r).toMatchObject({ probes: 2, galleryItems: 3, galleryClasses: 3 });
  });

  it('matches a float64 reference on noisy clusters, with several gallery rows per identity', () => {
    const r = rng(21);
    const dim = 16;
    const C = 30;
    const centres = Array.from({ length: C }, () => Array.from({ length: dim }, () => gauss(r)));
    const n = 240;
    const labels = Int32Array.from({ length: n }, (_, i) => i % C);
    const emb = Float32Array.from({ length: n * dim }, (_, k) => centres[labels[Math.floor(k / dim)]!]![k % dim]! + 1.3 * gauss(r));
    const split = gallerySplit(labels, { seed: 3, galleryPerClass: 2 });
    const pick = (idx: Int32Array) => ({
      embeddings: Float32Array.from({ length: idx.length * dim }, (_, k) => emb[idx[Math.floor(k / dim)]! * dim + (k % dim)]!),
      labels: Int32Array.from(idx, (i) => labels[i]!),
    });
    const g = pick(split.gallery);
    const p = pick(split.probes);
    const got = identification(g, p, { chunk: 50 });
    const ranks = referenceRanks(g.embeddings, g.labels, p.embeddings, p.labels, dim);
    expect(Array.from(got.ranks)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    got.ranks.forEach((k, i) => expect(got.cmc[i]).toBeCloseTo(ranks.filter((x) => x <= k).length / ranks.length, 14));
    expect(got.rank5).toBeCloseTo(ranks.filter((x) => x <= 5).length / ranks.length, 14);
    // Noisy but informative: well above chance (1/30), below perfect.
    expect(got.rank1).toBeGreaterThan(0.2);
    expect(got.rank1).toBeLessThan(1);
  });

  it('ties count against the probe: identical embeddings give rank = number of identities', () => {
    const r = identification(
      { embeddings: new Float32Array(4 * 3).fill(1), labels: Int32Array.from([0, 1, 2, 3]) },
      { embeddings: new Float32Array(2 * 3).fill(1), labels: Int32Array.from([1, 2]) },
      { ranks: [1, 3, 4] },
    );
    expect(Array.from(r.cmc)).toEqual([0, 0, 1]);
  });

  it('refuses probes whose identity is not in the gallery, and mismatched sizes', () => {
    const gallery = { embeddings: new Float32Array(4), labels: Int32Array.from([0, 1]) };
    expect(() => identification(gallery, { embeddings: new Float32Array(2), labels: Int32Array.from([7]) })).toThrow(/1 probes have an identity with no gallery sample/);
    expect(() => identification(gallery, { embeddings: new Float32Array(3), labels: Int32Array.from([0]) })).toThrow(/must match/);
  });
});

describe('gallerySplit', () => {
  it('puts galleryPerClass random samples of each identity in the gallery, the rest in probes, reproducibly', () => {
    const labels = Int32Array.from([0, 0, 0, 1, 1, 2, 3, 3, 3, 3]);
    const a = gallerySplit(labels, { seed: 1 });
    expect(Array.from(a.gallery).concat(Array.from(a.probes)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // One gallery row per identity; identity 2 (a single sample) is gallery-only.
    expect(Array.from(a.gallery, (i) => labels[i]).sort()).toEqual([0, 1, 2, 3]);
    expect(a.galleryOnlyClasses).toBe(1);
    expect(Array.from(a.probes, (i) => labels[i])).not.toContain(2);
    expect(gallerySplit(labels, { seed: 1 })).toEqual(a);
    // Over seeds every sample of identity 3 is chosen sometimes (uniform choice, not always the first).
    const chosen = new Set(Array.from({ length: 40 }, (_, s) => Array.from(gallerySplit(labels, { seed: s }).gallery).find((i) => labels[i] === 3)));
    expect(chosen).toEqual(new Set([6, 7, 8, 9]));
    expect(gallerySplit(labels, { seed: 2, galleryPerClass: 2 }).gallery.length).toBe(2 + 2 + 1 + 2);
    expect(() => gallerySplit(labels, { galleryPerClass: 0 })).toThrow(/galleryPerClass=0/);
  });
});
