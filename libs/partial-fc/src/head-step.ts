// One Partial FC head step on fixed inputs, for timing the head alone (the repro's head-cost table, tools/bench's
// partial-fc suites): the backbone's cost and the data loader are left out. The embeddings are random and fixed;
// the labels come from a fixed LCG over all classes (so every step samples a fresh set of positives); the gradient
// with respect to the embeddings is read back, which forces the backward pass to run; then the host update of the
// sampled centers.
import { tf } from '@facet/engine';
import type { PartialFC } from './partial-fc.js';

export interface FixedInputHeadStep {
  step(): void;
  /** Labels the next step will use (the LCG's next batch), for checks. */
  nextLabels(): Int32Array;
  dispose(): void;
}

export function fixedInputHeadStep(pfc: PartialFC, batch: number): FixedInputHeadStep {
  const x = tf.randomNormal([batch, pfc.embeddingSize], 0, 1, 'float32', 3) as tf.Tensor2D;
  let s = 12345;
  const draw = () =>
    Int32Array.from({ length: batch }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % pfc.numClasses;
    });
  let pending = draw();
  return {
    step() {
      const labels = pending;
      pending = draw();
      const g = tf.grad((e) => pfc.forward(e as tf.Tensor2D, labels))(x);
      g.dataSync();
      g.dispose();
      pfc.step();
    },
    nextLabels: () => pending.slice(),
    dispose: () => x.dispose(),
  };
}
