// The cost side of the Partial FC claim, timed in one process at a class count where the head matters. The
// training runs' own step times cannot carry it: at the experiment's 1000 classes the head is a negligible part of
// an IResNet step, and the runs were trained at different times on a machine shared with other work. So each
// sample rate's head step (forward + backward + host update of the sampled centers, fixed embeddings) is timed
// here, rates interleaved round by round so that a change in the machine's load hits every rate alike.
import { fixedInputHeadStep, maxSampledClasses, PartialFC } from '@facet/partial-fc';

export interface HeadTimingOptions {
  classes: number;
  embeddingSize: number;
  batch: number;
  rates: readonly number[];
  /** Timed steps per rate and round (after one untimed warm-up step per rate). */
  steps: number;
  rounds: number;
}

export interface HeadTiming {
  rate: number;
  /** Median over all timed steps. */
  medianMs: number;
  /** Classes computed per step, at most (positives + sampled negatives). */
  sampledClasses: number;
  /** PartialFC.estimateMemory: engine bytes of one step, host bytes of centers + optimizer state + step buffers. */
  engineMiB: number;
  hostMiB: number;
}

export function timePartialFcHead(o: HeadTimingOptions): HeadTiming[] {
  const heads = o.rates.map((sampleRate) => new PartialFC({ numClasses: o.classes, embeddingSize: o.embeddingSize, sampleRate, seed: 7 }));
  const steps = heads.map((pfc) => fixedInputHeadStep(pfc, o.batch));
  const times: number[][] = heads.map(() => []);
  try {
    steps.forEach((h) => h.step());
    for (let round = 0; round < o.rounds; round++) {
      steps.forEach((h, k) => {
        for (let i = 0; i < o.steps; i++) {
          const t = performance.now();
          h.step();
          times[k]!.push(performance.now() - t);
        }
      });
    }
    return heads.map((pfc, k) => {
      const mem = pfc.estimateMemory(o.batch);
      const sorted = [...times[k]!].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return {
        rate: o.rates[k]!,
        medianMs: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
        sampledClasses: maxSampledClasses(o.classes, o.rates[k]!, o.batch),
        engineMiB: mem.engineBytes / 2 ** 20,
        hostMiB: mem.hostBytes / 2 ** 20,
      };
    });
  } finally {
    steps.forEach((h) => h.dispose());
    heads.forEach((pfc) => pfc.dispose());
  }
}
