import { tf } from '@facet/engine';

/**
 * [B, depth] float32 one-hot mask: 1 at (b, labels[b]); rows whose label is outside [0, depth) (e.g. −1: the label
 * lives in another Partial FC shard) stay zero. Built with scatterND from the host labels: tf.oneHot refuses
 * depth 1, and a broadcast Equal against a range is ~40× slower on wasm at [128, 10k].
 */
export function labelMask(labels: tf.Tensor1D | Int32Array, depth: number): tf.Tensor2D {
  const values = labels instanceof Int32Array ? labels : (labels.dataSync() as Int32Array);
  const B = values.length;
  const rows: number[] = [];
  for (let b = 0; b < B; b++) {
    const y = values[b]!;
    if (y >= 0 && y < depth) rows.push(b, y);
  }
  if (rows.length === 0) return tf.zeros([B, depth]);
  return tf.tidy(
    () => tf.scatterND(tf.tensor2d(rows, [rows.length / 2, 2], 'int32'), tf.ones([rows.length / 2]), [B, depth]) as tf.Tensor2D,
  );
}
