// Run sizes: --quick is a CI smoke check (all six experiments in < 15 min on 2 idle cores), full is the real run.
export interface ReproSizes {
  network: string;
  width: number;
  inputSize: number;
  embeddingSize: number;
  batchSize: number;
  identities: number;
  imagesPerIdentity: number;
  epochs: number;
  /** Partial FC needs many classes for the sampling to matter. */
  pfcIdentities: number;
  pfcImagesPerIdentity: number;
  /** Partial FC head timing, at a class count where the head matters (full: MS1MV2's 85,742 identities). */
  pfcHeadTiming: { classes: number; embeddingSize: number; batch: number; steps: number; rounds: number };
  valIdentities: number;
  valPairs: number;
  /** Held-out labelled images for the contrastive metrics. */
  probeIdentities: number;
  probeImages: number;
  noiseLevels: number[];
  inversionSteps: number;
  inversionTargets: number;
  /** Checkpoint every N steps (0 = only at the end). */
  checkpointEvery: number;
}

export const QUICK_SIZES: ReproSizes = {
  network: 'iresnet18',
  width: 0.125,
  inputSize: 32,
  embeddingSize: 64,
  batchSize: 32,
  identities: 16,
  imagesPerIdentity: 16,
  epochs: 3,
  pfcIdentities: 128,
  pfcImagesPerIdentity: 3,
  pfcHeadTiming: { classes: 10_000, embeddingSize: 128, batch: 32, steps: 2, rounds: 1 },
  valIdentities: 24,
  valPairs: 300,
  probeIdentities: 8,
  probeImages: 8,
  noiseLevels: [0, 0.4],
  inversionSteps: 150,
  inversionTargets: 4,
  checkpointEvery: 0,
};

export const FULL_SIZES: ReproSizes = {
  network: 'iresnet18',
  width: 0.25,
  inputSize: 56,
  embeddingSize: 128,
  batchSize: 64,
  identities: 100,
  imagesPerIdentity: 24,
  epochs: 12,
  pfcIdentities: 1000,
  pfcImagesPerIdentity: 8,
  pfcHeadTiming: { classes: 85_742, embeddingSize: 512, batch: 128, steps: 3, rounds: 2 },
  valIdentities: 100,
  valPairs: 3000,
  probeIdentities: 20,
  probeImages: 20,
  noiseLevels: [0, 0.2, 0.4],
  inversionSteps: 400,
  inversionTargets: 8,
  checkpointEvery: 100,
};

export function sizesFor(quick: boolean): ReproSizes {
  return quick ? QUICK_SIZES : FULL_SIZES;
}
