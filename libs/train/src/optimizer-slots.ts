// Optimizer slots in checkpoints are keyed `<tf.Variable name>/<slot>`. Backbone variable names carry a
// per-process instance number (`iresnet18#3/conv1.weight`), so a checkpoint written by another process, or by an
// earlier backbone in this one, names other variables: map them by parameter name.
import type { Backbone } from '@facet/backbones';
import type { tf } from '@facet/engine';

/** Both directions of that mapping for one backbone. */
export function optimizerSlotNames(backbone: Backbone) {
  const paramOf = new Map<string, string>();
  const varOf = new Map<string, string>();
  for (const [param, v] of Object.entries(backbone.getWeights())) {
    paramOf.set((v as tf.Variable).name, param);
    varOf.set(param, (v as tf.Variable).name);
  }
  const split = (key: string) => [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/'))] as const;
  /** The backbone parameter a checkpoint variable name refers to, if any (this process's name or another's). */
  const paramFor = (name: string) => {
    const param = paramOf.get(name) ?? /^[^/]+#\d+\/(.+)$/.exec(name)?.[1];
    return param && varOf.has(param) ? param : undefined;
  };
  return {
    toCheckpoint: (slots: Record<string, Float32Array>) =>
      Object.fromEntries(Object.entries(slots).map(([k, a]) => [`${varOf.get(split(k)[0])}${split(k)[1]}`, a])),
    /** Checkpoint slots → this backbone's variable names (other keys unchanged). */
    toCurrent(slots: Record<string, Float32Array>) {
      const out: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(slots)) {
        const [name, tag] = split(k);
        const param = paramFor(name);
        out[param ? `${varOf.get(param)}${tag}` : k] = a;
      }
      return out;
    },
    /** Checkpoint slots → (backbone slots by parameter name, the rest). */
    fromCheckpoint(slots: Record<string, Float32Array>) {
      const backboneSlots: Record<string, Float32Array> = {};
      const rest: Record<string, Float32Array> = {};
      for (const [k, a] of Object.entries(slots)) {
        const [name, tag] = split(k);
        const param = paramFor(name);
        if (param) backboneSlots[`${param}${tag}`] = a;
        else rest[k] = a;
      }
      return { backboneSlots, rest };
    },
  };
}
