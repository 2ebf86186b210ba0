// A tiny IResNet trained in the test itself: a few SGD steps of the ArcFace loss (marginLoss) on K procedural
// "identities" (a fixed random low-frequency pattern per class plus per-image noise), in BN training mode so that
// the running statistics the BN prior reads are the statistics of this data.
import { createBackbone, type Backbone } from '@facet/backbones';
import { tf } from '@facet/engine';
import { marginLoss } from '@facet/heads';
import { flipImages, rollImages } from '../src/index.js';
import { randomArray } from './tiny-net.js';

export interface TrainedTiny {
  model: Backbone;
  centers: tf.Variable;
  /** One clean image per class, [K, S, S, 3]. */
  classImages: (seed: number) => tf.Tensor4D;
  dispose(): void;
}

export function trainTinyModel(opts: { classes: number; size: number; steps: number; seed: number; embeddingSize?: number }): TrainedTiny {
  const { classes: K, size: S, steps, seed } = opts;
  const D = opts.embeddingSize ?? 16;
  const model = createBackbone('iresnet18', { width: 0.125, inputSize: S, embeddingSize: D, seed, blocks: [1, 1, 1, 1] });
  // class pattern: a 4×4 random colour grid upsampled to S×S (smooth, so it survives jitter)
  const patterns = tf.tidy(() =>
    tf.image.resizeBilinear(tf.tensor4d(Float32Array.from(randomArray(K * 4 * 4 * 3, seed + 1).map((v) => 0.8 * v)), [K, 4, 4, 3]), [S, S], true),
  );
  const batchOf = (step: number, perClass: number, augment = false) =>
    tf.tidy(() => {
      const labels = Int32Array.from({ length: K * perClass }, (_, i) => i % K);
      const base = tf.gather(patterns, tf.tensor1d(labels, 'int32'));
      const noise = tf.mul(tf.randomNormal(base.shape, 0, 1, 'float32', 2 * (seed * 977 + step) + 1), 0.25);
      let x = tf.clipByValue(tf.add(base, noise), -1, 1) as tf.Tensor4D;
      // the augmentation insightface trains with (horizontal flip), plus a one-pixel shift, so that the model
      // tolerates the inversion's jitter and flips as a face model does
      if (augment) x = flipImages(rollImages(x, (step % 3) - 1, ((step >> 1) % 3) - 1));
      return { x, labels };
    });
  const centers = tf.tidy(() => tf.variable(tf.randomNormal([K, D], 0, 0.1, 'float32', seed + 2), true, `tiny-centers-${seed}-${Math.random()}`));
  const vars = [...model.trainableVariables(), centers];
  const margin = { s: 16, m1: 1, m2: 0.3, m3: 0 };
  for (let step = 0; step < steps; step++) {
    const { x, labels } = batchOf(step, 4, step % 2 === 1);
    const lab = tf.tensor1d(labels, 'int32');
    const { value, grads } = tf.variableGrads(() => marginLoss(model.apply(x, { training: true }), centers as tf.Variable<tf.Rank.R2>, lab, margin), vars);
    tf.tidy(() => {
      for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name]!, 0.05)));
    });
    tf.dispose([x, lab, value, ...Object.values(grads)]);
  }
  return {
    model,
    centers,
    classImages: (s) => batchOf(10_000 + s, 1).x,
    dispose: () => {
      model.dispose();
      centers.dispose();
      patterns.dispose();
    },
  };
}
