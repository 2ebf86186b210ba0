import type { tf } from '@facet/engine';
import { barlowTwinsLoss, type BarlowTwinsOptions } from './barlow-twins.js';
import { infoNCE, type InfoNceOptions } from './info-nce.js';
import { ntXent, type NtXentOptions } from './nt-xent.js';

export const SELF_SUPERVISED_OBJECTIVES = ['infonce', 'ntxent', 'barlow'] as const;
export type SelfSupervisedObjectiveName = (typeof SELF_SUPERVISED_OBJECTIVES)[number];
export type SelfSupervisedObjectiveOptions = InfoNceOptions & NtXentOptions & BarlowTwinsOptions;
/** A label-free training objective on a two-view batch: (z1, z2) [B, D] → scalar loss. */
export type TwoViewLoss = (z1: tf.Tensor2D, z2: tf.Tensor2D) => tf.Scalar;

/**
 * The loss behind `facet train --objective infonce|ntxent|barlow`: options are validated once, here, so a bad
 * value fails before the first step.
 */
export function selfSupervisedObjective(name: string, options: SelfSupervisedObjectiveOptions = {}): TwoViewLoss {
  const t = options.temperature;
  if (t !== undefined && !(Number.isFinite(t) && t > 0)) throw new Error(`--temperature must be a number > 0, got ${t}.`);
  switch (name) {
    case 'infonce':
      return (z1, z2) => infoNCE(z1, z2, { temperature: options.temperature, symmetric: options.symmetric });
    case 'ntxent':
      return (z1, z2) => ntXent(z1, z2, { temperature: options.temperature });
    case 'barlow': {
      const { lambda, standardize, eps } = options;
      if (lambda !== undefined && !(Number.isFinite(lambda) && lambda >= 0)) throw new Error(`--lambda must be a number >= 0, got ${lambda}.`);
      if (standardize !== undefined && standardize !== 'biased' && standardize !== 'unbiased') {
        throw new Error(`--standardize must be 'biased' or 'unbiased', got '${standardize}'.`);
      }
      return (z1, z2) => barlowTwinsLoss(z1, z2, { lambda, standardize, eps });
    }
    default:
      throw new Error(`unknown objective '${name}'; use one of ${SELF_SUPERVISED_OBJECTIVES.join(', ')}.`);
  }
}
