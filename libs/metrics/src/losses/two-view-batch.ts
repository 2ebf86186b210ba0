import { tf } from '@facet/engine';

/** Validate a pair of view batches at the boundary, so a bad shape never surfaces as a deep tfjs error. */
export function checkTwoViewBatch(z1: tf.Tensor, z2: tf.Tensor, loss: string): number {
  for (const [z, name] of [[z1, 'z1'], [z2, 'z2']] as const) {
    if (!(z instanceof tf.Tensor)) throw new Error(`${loss}: ${name} must be a Tensor2D [B, D].`);
    if (z.rank !== 2) throw new Error(`${loss}: ${name} must be rank 2 [B, D], got shape [${z.shape.join(', ')}].`);
    if (z.dtype !== 'float32') throw new Error(`${loss}: ${name} must be float32, got ${z.dtype}.`);
  }
  if (z1.shape[0] !== z2.shape[0] || z1.shape[1] !== z2.shape[1]) {
    throw new Error(`${loss}: z1 [${z1.shape.join(', ')}] and z2 [${z2.shape.join(', ')}] must have the same shape (row i = two views of image i).`);
  }
  const b = z1.shape[0]!;
  if (b < 2) throw new Error(`${loss}: needs a batch of at least 2 images (the other images are the negatives / the batch statistics), got ${b}.`);
  return b;
}

/** Row-wise L2 normalization, differentiable; the floor keeps an all-zero row finite. */
export function l2NormalizeRows(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(z, tf.maximum(tf.norm(z, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D);
}

export function checkTemperature(t: number, loss: string): void {
  if (!(typeof t === 'number' && Number.isFinite(t) && t > 0)) throw new Error(`${loss}: temperature must be a finite number > 0, got ${t}.`);
}
