import { tf } from '@facet/engine';
import { forEachGramBlock } from './blocked-gram.js';
import { classCenters, toViews, type ClassCenters, type ViewsInput } from './class-centers.js';
import { indexLabels, normalizeRows, rowCount, type LabelInput } from './embedding-matrix.js';

/** Embeddings (one matrix or several views of the same images) with one label per image. */
export interface LabeledEmbeddings {
  x: ViewsInput;
  labels: LabelInput;
}

export interface NearestCenterAccuracy {
  accuracy: number;
  correct: number;
  /** Test embeddings classified (images × views). */
  total: number;
  classes: number;
}

/**
 * The downstream classifier of Huang et al. (§2): G_f(x) = argmin_k ||f̂(x) - µ_k||, with µ_k the (unnormalized)
 * class centres of the training embeddings. Since ||f̂(x)|| = 1, this is argmax_k µ_kᵀf̂(x) - ½||µ_k||², a linear
 * classifier, evaluated tile by tile. Every test class must have a centre (closed-set evaluation).
 */
export function nearestCenterAccuracy(
  train: LabeledEmbeddings,
  test: LabeledEmbeddings,
  options: { blockRows?: number } = {},
): NearestCenterAccuracy {
  return nearestCenterAccuracyOf(classCenters(train.x, train.labels), test, options);
}

export function nearestCenterAccuracyOf(
  centers: ClassCenters,
  test: LabeledEmbeddings,
  options: { blockRows?: number } = {},
): NearestCenterAccuracy {
  const views = toViews(test.x, 'test.x').map((v, i) => normalizeRows(v, `test.x[${i}]`));
  if (views[0]!.dim !== centers.dim) {
    throw new Error(`test embeddings have dim ${views[0]!.dim} but the train centres have dim ${centers.dim}; use the same model for both.`);
  }
  const n = rowCount(views[0]!);
  const cls = indexLabels(test.labels, n, 'test.labels');
  const centreOf = new Map(centers.classIds.map((id, k) => [id, k]));
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = cls.classIds[cls.index[i]!]!;
    const k = centreOf.get(id);
    if (k === undefined) {
      throw new Error(`test label ${id} (row ${i}) has no class centre in the training embeddings; nearest-centre accuracy needs every test class in train.`);
    }
    truth[i] = k;
  }
  const halfNorm = Float32Array.from(centers.squaredNorms, (s) => s / 2);
  const centreMatrix = { data: Float32Array.from(centers.centers), dim: centers.dim };
  let correct = 0;
  for (const v of views) {
    const bestScore = new Float64Array(n).fill(-Infinity);
    const bestClass = new Int32Array(n);
    // Each tile is reduced on the engine to [best score, its column] per row; only 2·rows floats come back.
    forEachGramBlock(
      v,
      centreMatrix,
      ({ rowStart, colStart, values }) => {
        const rows = values.length / 2;
        for (let r = 0; r < rows; r++) {
          const i = rowStart + r;
          if (values[r]! > bestScore[i]!) (bestScore[i] = values[r]!), (bestClass[i] = colStart + values[rows + r]!);
        }
      },
      {
        blockRows: options.blockRows,
        reduce: (g, { colStart, cols }) => {
          const scores = tf.sub(g, tf.tensor1d(halfNorm.subarray(colStart, colStart + cols)));
          return tf.stack([tf.max(scores, 1), tf.cast(tf.argMax(scores, 1), 'float32')]);
        },
      },
    );
    for (let i = 0; i < n; i++) if (bestClass[i] === truth[i]) correct++;
  }
  const total = n * views.length;
  return { accuracy: correct / total, correct, total, classes: centers.classIds.length };
}
