// What the backbone is trained against. Every objective exposes the same small interface so `train` does not care
// whether the head lives on the engine (softmax FC), in host memory (Partial FC), or does not exist (two-view SSL).
import { tf } from '@facet/engine';
import { MARGIN_PRESETS, softmaxLoss, type MarginOptions } from '@facet/heads';
import { PartialFC, type PartialFCState } from '@facet/partial-fc';
import type { TrainConfig } from './config.js';
import { twoViewObjective } from './ssl.js';

export interface ObjectiveState {
  kind: string;
  arrays: Record<string, Float32Array>;
  meta: Record<string, unknown>;
}

export interface Objective {
  readonly name: string;
  /** Whether batches need a second augmented view (self-supervised objectives). */
  readonly twoViews: boolean;
  /** Loss of a batch, inside the caller's gradient tape. `embeddings2` is set for two-view objectives. */
  loss(embeddings: tf.Tensor2D, labels: Int32Array, embeddings2?: tf.Tensor2D): tf.Scalar;
  /** Engine-side trainable variables of the head (updated with the backbone's optimizer, not clipped). */
  variables(): tf.Variable[];
  /** Host-side updates after the backbone step (Partial FC's sampled rows). */
  afterStep(lr: number): void;
  /** Training accuracy of the last batch, when the objective has classes. */
  accuracy(): number | undefined;
  estimateEngineBytes(batchSize: number): number;
  getState(): ObjectiveState;
  setState(s: ObjectiveState): void;
  dispose(): void;
  /** The Partial FC behind a margin objective (class centers for sub-center cleaning, inversion, quality). */
  readonly partialFC?: PartialFC;
}

export function marginOptions(cfg: TrainConfig): MarginOptions {
  const preset = cfg.head === 'softmax' ? undefined : (MARGIN_PRESETS as Record<string, Partial<MarginOptions>>)[cfg.head];
  const [m1, m2, m3] = cfg.marginList ?? [preset?.m1 ?? 1, preset?.m2 ?? 0, preset?.m3 ?? 0];
  return { s: cfg.scale, m1, m2, m3, rule: cfg.marginRule, gradient: cfg.marginGradient };
}

/** Margin heads (ArcFace, CosFace, SphereFace, combined, sub-center) through Partial FC; r = 1 is the full FC. */
export function marginObjective(cfg: TrainConfig, numClasses: number, lrAt: () => number): Objective {
  const pfc = new PartialFC({
    numClasses,
    embeddingSize: cfg.embeddingSize,
    sampleRate: cfg.sampleRate,
    margin: marginOptions(cfg),
    subCenters: cfg.subCenters,
    optimizer:
      cfg.optimizer === 'sgd'
        ? { type: 'sgd', lr: lrAt(), momentum: cfg.momentum, weightDecay: cfg.weightDecay }
        : { type: 'adamw', lr: lrAt(), weightDecay: cfg.weightDecay },
    seed: cfg.seed,
  });
  return {
    name: cfg.subCenters > 1 ? `sub-center ${cfg.head} (K=${cfg.subCenters})` : cfg.head,
    twoViews: false,
    loss: (emb, labels) => pfc.forward(emb, labels),
    variables: () => [],
    afterStep: (lr) => pfc.step(lr),
    accuracy: () => pfc.lastAccuracy(),
    estimateEngineBytes: (b) => pfc.estimateMemory(b).engineBytes,
    getState: () => {
      const s = pfc.getState() as unknown as Record<string, unknown>;
      const arrays: Record<string, Float32Array> = {};
      const meta: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s)) {
        if (v instanceof Float32Array) arrays[k] = v;
        else meta[k] = v;
      }
      return { kind: 'partial-fc', arrays, meta };
    },
    setState: (s) => {
      if (s.kind !== 'partial-fc') throw new Error(`checkpoint head is ${s.kind}, this run uses Partial FC`);
      pfc.setState({ ...s.meta, ...s.arrays } as unknown as PartialFCState);
    },
    dispose: () => pfc.dispose(),
    partialFC: pfc,
  };
}

/** The plain softmax baseline: an unnormalized FC (W, b) on the engine, trained with the backbone's optimizer. */
export function softmaxObjective(cfg: TrainConfig, numClasses: number): Objective {
  const w = tf.variable(tf.randomNormal([cfg.embeddingSize, numClasses], 0, 0.01, 'float32', cfg.seed), true, 'head/softmax/weight');
  const b = tf.variable(tf.zeros([numClasses]), true, 'head/softmax/bias');
  let acc: number | undefined;
  return {
    name: 'softmax',
    twoViews: false,
    loss(emb, labels) {
      const lab = tf.tensor1d(labels, 'int32');
      const loss = softmaxLoss(emb, w as tf.Variable<tf.Rank.R2>, lab, b as tf.Variable<tf.Rank.R1>);
      acc = tf.tidy(() => {
        const pred = tf.argMax(tf.add(tf.matMul(emb, w), b), 1);
        return tf.mean(tf.cast(tf.equal(pred, lab), 'float32')).dataSync()[0];
      });
      lab.dispose();
      return loss;
    },
    variables: () => [w, b],
    afterStep: () => undefined,
    accuracy: () => acc,
    estimateEngineBytes: (batch) => 4 * (3 * (cfg.embeddingSize + 1) * numClasses + 3 * batch * numClasses),
    getState: () => ({ kind: 'softmax', arrays: {}, meta: {} }),
    setState: (s) => {
      if (s.kind !== 'softmax') throw new Error(`checkpoint head is ${s.kind}, this run uses softmax`);
    },
    dispose: () => tf.dispose([w, b]),
  };
}

/** The objective a config asks for. */
export function makeObjective(cfg: TrainConfig, numClasses: number, lrAt: () => number): Objective {
  if (cfg.objective === 'infonce' || cfg.objective === 'barlow') return twoViewObjective(cfg);
  if (cfg.objective === 'softmax' || cfg.head === 'softmax') return softmaxObjective(cfg, numClasses);
  return marginObjective(cfg, numClasses, lrAt);
}
