// What each inverted image should become: a training identity (close set: its class centre in the trained head,
// ArcFace TPAMI Alg. 1) or any embedding (open set: a real face's embedding, a stored embedding, or a random unit
// identity drawn where the model's identities live: random-identities.ts).
import type { Backbone } from '@facet/backbones';
import { tf } from '@facet/engine';
import { normalizeRows } from './identity-loss.js';
import { sampleRandomIdentities } from './random-identities.js';

export type InversionTarget =
  /** Close set: class indices into `centers` ([C, D], or [C, K, D] with K sub-centres). */
  | { kind: 'class'; classes: ArrayLike<number>; centers: tf.Tensor2D | tf.Tensor3D }
  /** Open set: one raw or normalised embedding per row, in the inverted model's space. */
  | { kind: 'embedding'; embeddings: tf.Tensor2D }
  /** Open set: invert these faces' embeddings ([N, S, S, 3], normalised pixels, S = the model's input size). */
  | { kind: 'image'; images: tf.Tensor4D }
  /**
   * Open set: N new identities. With `reference` (the trained head's class centres [C, D] / [C, K, D], or
   * embeddings of a reference set of faces [M, D]): drawn from the Gaussian of those unit rows (their mean and
   * covariance; Facet's default in the CLI). Without: uniform on the sphere (N(0, I) normalised; the paper's recipe,
   * which the model can rarely reach: see random-identities.ts).
   */
  | { kind: 'random'; count: number; seed?: number; reference?: tf.Tensor2D | tf.Tensor3D };

/** A target resolved against the model: per-row target embeddings (open set) or labels + centres (close set). */
export interface ResolvedTargets {
  kind: InversionTarget['kind'];
  count: number;
  /** Open set: L2-normalised target embeddings [N, D] (owned; dispose). Close set: undefined. */
  embeddings?: tf.Tensor2D;
  /** Random targets drawn from a reference: their mixture weights over its C rows [N, C] (owned; dispose). */
  weights?: tf.Tensor2D;
  /** Close set. */
  labels?: Int32Array;
  centers?: tf.Tensor2D | tf.Tensor3D;
  /** Human-readable description of row i (for the report). */
  describe(i: number): string;
}

/** Check a target against the model and compute what the identity loss needs. */
export function resolveTargets(model: Backbone, target: InversionTarget): ResolvedTargets {
  const D = model.embeddingSize;
  const S = model.inputSize;
  if (!target || typeof target !== 'object') throw new Error('invert: targets must be an object { kind: class | embedding | image | random, ... }.');
  switch (target.kind) {
    case 'class': {
      const { centers } = target;
      if (!centers || (centers.rank !== 2 && centers.rank !== 3)) throw new Error('invert: class targets need centers [C, D] or [C, K, D] (loadClassCenters(runDir) reads them from a training run).');
      const d = centers.shape[centers.rank - 1];
      if (d !== D) throw new Error(`invert: class centers are ${d}-d but model ${model.name} embeds in ${D}-d; use the centers of the run that trained this model.`);
      const C = centers.shape[0];
      const labels = Int32Array.from(target.classes as ArrayLike<number>);
      if (labels.length === 0) throw new Error('invert: --class needs at least one class index.');
      labels.forEach((c, i) => {
        const raw = (target.classes as ArrayLike<number>)[i]!;
        if (!Number.isInteger(raw) || c < 0 || c >= C) throw new Error(`invert: class ${raw} is out of range; the head has classes 0..${C - 1}.`);
      });
      return { kind: 'class', count: labels.length, labels, centers, describe: (i) => `class ${labels[i]}` };
    }
    case 'embedding': {
      const e = target.embeddings;
      if (!e || e.rank !== 2) throw new Error('invert: embedding targets need a [N, D] tensor (one row per target).');
      if (e.shape[1] !== D) throw new Error(`invert: target embeddings are ${e.shape[1]}-d but model ${model.name} embeds in ${D}-d; embed the targets with this model.`);
      if (e.shape[0] === 0) throw new Error('invert: the embedding file has no rows.');
      return { kind: 'embedding', count: e.shape[0], embeddings: normalizeRows(e), describe: (i) => `embedding row ${i}` };
    }
    case 'image': {
      const x = target.images;
      if (!x || x.rank !== 4 || x.shape[1] !== S || x.shape[2] !== S || x.shape[3] !== 3) {
        throw new Error(`invert: image targets must be [N, ${S}, ${S}, 3] (model ${model.name} input size ${S}); got [${x?.shape.join(', ')}]. Resize the face to ${S}×${S}.`);
      }
      const emb = tf.tidy(() => normalizeRows(model.apply(x, { training: false })));
      return { kind: 'image', count: x.shape[0], embeddings: emb, describe: (i) => `image ${i}` };
    }
    case 'random': {
      const n = target.count;
      if (!Number.isInteger(n) || n < 1) throw new Error(`invert: --random needs a positive number of identities, got ${String(n)}.`);
      const seed = target.seed ?? 0;
      const ref = target.reference;
      if (ref) {
        if (ref.rank !== 2 && ref.rank !== 3) throw new Error('invert: the reference of random identities must be [C, D] class centres / embeddings or [C, K, D] sub-centres.');
        const d = ref.shape[ref.rank - 1];
        if (d !== D) throw new Error(`invert: the reference of random identities is ${d}-d but model ${model.name} embeds in ${D}-d; use this model's class centres or embeddings.`);
      }
      const { targets, weights } = sampleRandomIdentities(n, D, seed, ref);
      const from = ref ? `N(μ, Σ) of ${ref.shape[0]} reference embeddings` : 'uniform on the sphere';
      return { kind: 'random', count: n, embeddings: targets, weights, describe: (i) => `random identity ${i} (seed ${seed}, ${from})` };
    }
    default:
      throw new Error(`invert: unknown target kind "${String((target as { kind?: unknown }).kind)}" (class, embedding, image or random).`);
  }
}
