// Per-step augmentation of the image being optimised (DeepInversion): a random integer translation with
// wrap-around (torch.roll) and a random horizontal flip. Gradients flow back to the un-augmented image, so the
// result must work under small shifts and mirroring, which suppresses pixel-grid adversarial patterns.
import { tf } from '@facet/engine';

function rollAxis(x: tf.Tensor4D, shift: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const s = ((shift % n) + n) % n;
  if (s === 0) return x;
  // torch.roll: out[i] = x[(i − shift) mod n], i.e. the last s rows come first (tfjs has no roll op)
  const [tail, head] = tf.split(x, [n - s, s], axis);
  return tf.concat([head!, tail!], axis) as tf.Tensor4D;
}

/** torch.roll(x, (dy, dx), dims=(H, W)) on an NHWC batch: content moves down by dy and right by dx, wrapping. */
export function rollImages(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  if (!Number.isInteger(dy) || !Number.isInteger(dx)) throw new Error(`rollImages: shifts must be integers, got (${dy}, ${dx}).`);
  return tf.tidy(() => rollAxis(rollAxis(x, dy, 1), dx, 2));
}

/** Mirror an NHWC batch left–right. */
export function flipImages(x: tf.Tensor4D): tf.Tensor4D {
  return tf.reverse(x, 2);
}
