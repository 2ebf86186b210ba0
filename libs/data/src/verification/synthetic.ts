// A verification set over held-out synthetic identities: pairs alternate genuine / impostor, so any contiguous
// fold (insightface's 10-fold protocol) holds both kinds.

import { makeRng, mixSeed } from '../rng.js';
import { HELD_OUT_IDENTITY_OFFSET, resolveSyntheticOptions, syntheticClassName, type SyntheticFaceOptions } from '../synthetic/dataset.js';
import { renderSyntheticFace } from '../synthetic/render.js';
import type { VerificationSet } from './types.js';

export interface SyntheticVerificationOptions extends SyntheticFaceOptions {
  /** Number of pairs (half genuine). Default 600. */
  pairs?: number;
}

/**
 * Pairs drawn from identities identityOffset..identityOffset+identities-1 (default offset HELD_OUT_IDENTITY_OFFSET,
 * disjoint from training sets that start at 0) and variants 0..imagesPerIdentity-1.
 */
export function syntheticVerificationSet(opts: SyntheticVerificationOptions = {}): VerificationSet {
  const pairs = opts.pairs ?? 600;
  if (!Number.isInteger(pairs) || pairs < 2) throw new Error(`syntheticVerificationSet: pairs must be an integer ≥ 2, got ${pairs}`);
  const o = resolveSyntheticOptions({ ...opts, identityOffset: opts.identityOffset ?? HELD_OUT_IDENTITY_OFFSET });
  if (o.identities < 2) throw new Error('syntheticVerificationSet: identities must be ≥ 2 for impostor pairs');
  if (o.imagesPerIdentity < 2) throw new Error('syntheticVerificationSet: imagesPerIdentity must be ≥ 2 for genuine pairs');
  const rng = makeRng(mixSeed(o.seed, 0x5a17, o.identityOffset, o.identities, pairs));
  const imagesA: Uint8Array[] = [];
  const imagesB: Uint8Array[] = [];
  const issame: boolean[] = [];
  const render = (id: number, variant: number) => renderSyntheticFace(o.identityOffset + id, variant, o);
  for (let p = 0; p < pairs; p++) {
    const same = p % 2 === 0;
    const a = rng.int(o.identities);
    let b = a;
    const va = rng.int(o.imagesPerIdentity);
    let vb = va;
    if (same) {
      vb = (va + 1 + rng.int(o.imagesPerIdentity - 1)) % o.imagesPerIdentity;
    } else {
      b = (a + 1 + rng.int(o.identities - 1)) % o.identities;
      vb = rng.int(o.imagesPerIdentity);
    }
    imagesA.push(render(a, va));
    imagesB.push(render(b, vb));
    issame.push(same);
  }
  const first = syntheticClassName(o.identityOffset);
  const last = syntheticClassName(o.identityOffset + o.identities - 1);
  return { name: `synthetic-verification(${first}..${last}, seed ${o.seed})`, imagesA, imagesB, issame, imageSize: o.imageSize };
}
