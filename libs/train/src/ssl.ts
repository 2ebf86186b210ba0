// Self-supervised two-view objectives (Huang et al. analyse both): InfoNCE/NT-Xent and Barlow Twins, on the
// backbone embeddings of two independent augmentations of each image; labels are not used.
import { tf } from '@facet/engine';
import { barlowTwinsLoss, infoNCE } from '@facet/metrics';
import type { TrainConfig } from './config.js';
import type { Objective } from './objectives.js';

export function twoViewObjective(cfg: TrainConfig): Objective {
  const name = cfg.objective === 'infonce' ? `infonce (τ=${cfg.temperature})` : `barlow (λ=${cfg.barlowLambda})`;
  return {
    name,
    twoViews: true,
    loss(z1, _labels, z2) {
      if (!z2) throw new Error(`${cfg.objective} needs two augmented views per image`);
      return cfg.objective === 'infonce'
        ? infoNCE(z1, z2, { temperature: cfg.temperature, symmetric: true })
        : barlowTwinsLoss(z1, z2, { lambda: cfg.barlowLambda, standardize: 'biased' });
    },
    variables: () => [],
    afterStep: () => undefined,
    accuracy: () => undefined,
    estimateEngineBytes: (b) => 4 * 4 * b * b + 4 * 4 * cfg.embeddingSize * cfg.embeddingSize,
    getState: () => ({ kind: cfg.objective, arrays: {}, meta: {} }),
    setState: (s) => {
      if (s.kind !== cfg.objective) throw new Error(`checkpoint objective is ${s.kind}, this run uses ${cfg.objective}`);
    },
    dispose: () => undefined,
  };
}

export type { tf };
