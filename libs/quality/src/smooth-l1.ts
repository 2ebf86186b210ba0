// Smooth-L1 (Huber with PyTorch's parametrisation, F.smooth_l1_loss): 0.5·e²/β for |e| < β, |e| − 0.5·β otherwise;
// mean over elements. RER regresses the RI with it; the notes give β = 0.75 (theory.md §3.1).
import { tf } from '@facet/engine';

export function smoothL1Loss(prediction: tf.Tensor, target: tf.Tensor, beta = 0.75): tf.Scalar {
  if (!(beta > 0)) throw new Error(`smoothL1Loss: beta must be > 0 (got ${beta}).`);
  if (prediction.shape.join() !== target.shape.join()) throw new Error(`smoothL1Loss: prediction [${prediction.shape}] and target [${target.shape}] differ in shape.`);
  return tf.tidy(() => {
    const e = tf.abs(tf.sub(prediction, target));
    // quadratic part min(|e|, β) and linear remainder: 0.5·q²/β + (|e| − q) equals both branches
    const q = tf.minimum(e, beta);
    return tf.mean(tf.add(tf.div(tf.mul(0.5, tf.square(q)), beta), tf.sub(e, q))) as tf.Scalar;
  });
}
