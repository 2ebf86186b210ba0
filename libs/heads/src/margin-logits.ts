// Scaled logits of the combined margin softmax from the class cosines (engine side, differentiable):
//   logit_j = s·cos θ_j (j ≠ y),   logit_y = s·f(cos θ_y),   f(t) = cos(m1·acos t + m2) − m3
// (ArcFace TPAMI Eq. 4), with the 'th_mm' fallback and the 'straight_through' gradient as documented in
// margin-options.ts. The host twin is marginTarget() in margin-target.ts.
import { tf } from '@facet/engine';
import { COS_CLIP_EPS, type ResolvedMarginOptions } from './margin-options.js';
import { isCosineOnlyMargin } from './margin-target.js';
import { labelMask } from './label-mask.js';
import { stopGradient } from './stop-gradient.js';

/** f(t) for a vector of target cosines [B]. Masks use tf.step (Greater has no gradient in tfjs). */
export function marginTargetTensor(t: tf.Tensor1D, o: ResolvedMarginOptions): tf.Tensor1D {
  return tf.tidy(() => {
    if (isCosineOnlyMargin(o)) return tf.sub(t, o.m3) as tf.Tensor1D;
    const tc = tf.clipByValue(t, -1 + COS_CLIP_EPS, 1 - COS_CLIP_EPS);
    const angular = tf.sub(tf.cos(tf.add(tf.mul(tf.acos(tc), o.m1), o.m2)), o.m3);
    if (o.rule === 'plain') return angular as tf.Tensor1D;
    const useMargin = tf.step(tf.sub(t, o.th)); // 1 where t > th
    const fallback = tf.sub(t, o.mm + o.m3);
    return tf.add(tf.mul(useMargin, angular), tf.mul(tf.sub(1, useMargin), fallback)) as tf.Tensor1D;
  });
}

/** Scaled margin logits [B, C] from cosines [B, C] and int32 labels [B]. */
export function marginLogits(cos: tf.Tensor2D, labels: tf.Tensor1D, o: ResolvedMarginOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const oneHot = labelMask(labels, cos.shape[1]);
    const t = tf.sum(tf.mul(cos, oneHot), 1) as tf.Tensor1D;
    let delta: tf.Tensor = tf.sub(marginTargetTensor(t, o), t);
    // straight-through: the margin is a constant offset for backprop (arcface_torch applies it under no_grad)
    if (o.gradient === 'straight_through') delta = stopGradient(delta);
    return tf.mul(tf.add(cos, tf.mul(oneHot, tf.expandDims(delta, 1))), o.s) as tf.Tensor2D;
  });
}

/** Mean softmax cross-entropy of logits [B, C] against int32 labels [B]: mean(logsumexp(z) − z_y). */
export function meanSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = labelMask(labels, logits.shape[1]);
    const target = tf.sum(tf.mul(logits, oneHot), 1);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), target)) as tf.Scalar;
  });
}
