// What both training loops (trainer.ts and parallel/train-with-workers.ts) start from: the training set, the
// validation sets, the backbone and the objective. They are made in one fixed order because the backbone's and the
// head's initial weights are seeded draws: a single-worker run and a data-parallel run at the same seed must start
// from the same weights (parallel.test.ts compares them step by step).
import { createBackbone, type Backbone } from '@facet/backbones';
import type { FaceDataset, VerificationSet } from '@facet/data';
import { ConfigError, effectiveLr, type TrainConfig } from './config.js';
import { openTrainingDataset, openValidationSet, validationLabel } from './datasets.js';
import { initBackbone } from './init-model.js';
import { makeObjective, type Objective } from './objectives.js';
import type { TrainRunOptions } from './trainer.js';

export interface RunInputs {
  dataset: FaceDataset;
  valSets: VerificationSet[];
  backbone: Backbone;
  objective: Objective;
  /** The learning rate of the current step: the loop sets it, Partial FC's host-side centre optimizer reads it. */
  lr: { now: number };
}

export async function openRunInputs(cfg: TrainConfig, opts: TrainRunOptions): Promise<RunInputs> {
  const dataset: FaceDataset = opts.dataset ?? (await openTrainingDataset(cfg, (message) => opts.onEvent?.({ type: 'warning', message })));
  if (cfg.batchSize > dataset.size) {
    throw new ConfigError(`batchSize ${cfg.batchSize} is larger than the dataset (${dataset.size} images in ${dataset.name}); use a smaller --batch-size`);
  }
  const valSets = await Promise.all(cfg.valTargets.map(async (t) => ({ ...(await openValidationSet(t, cfg)), name: validationLabel(t) })));
  const backbone = cfg.init
    ? await initBackbone(cfg)
    : createBackbone(cfg.network, { embeddingSize: cfg.embeddingSize, inputSize: cfg.inputSize, width: cfg.width, dropout: cfg.dropout, seed: cfg.seed });
  const lr = { now: effectiveLr(cfg) };
  const objective = makeObjective(cfg, dataset.numClasses, () => lr.now);
  return { dataset, valSets, backbone, objective, lr };
}
