// Tokens for the addon's cache of forward weights in oneDNN's layout (addon/conv.cc): one per tfjs dataId, whose
// contents never change while it lives (tfjs tensors are immutable; a variable's assign moves it to a new dataId).
// The backend forgets a token when its data is deleted or moved, and the addon frees the cached copies.
import { nativeAddon } from './addon.js';

const tokens = new WeakMap<object, number>();
let next = 1;

/** The cache token of a tensor's storage. */
export function weightsToken(dataId: object): number {
  let t = tokens.get(dataId);
  if (t === undefined) {
    t = next++;
    tokens.set(dataId, t);
  }
  return t;
}

/** Drop the addon's cached copies of this storage (its tensor was deleted, or its values replaced). */
export function forgetWeights(dataId: object): void {
  const t = tokens.get(dataId);
  if (t === undefined) return;
  tokens.delete(dataId);
  nativeAddon().dropWeights(t);
}
