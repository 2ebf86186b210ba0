// Boundary checks for the tensor entry points: one clear Error naming the argument and the fix, never a stack
// from deep inside tfjs.
import { tf } from '@facet/engine';

export interface HeadShapes {
  batch: number;
  dim: number;
  numClasses: number;
  subCenters: number;
}

/** embeddings [B, D] with centers [C, D] or [C, K, D]. */
export function checkEmbeddingsAndCenters(fn: string, embeddings: tf.Tensor, centers: tf.Tensor): HeadShapes {
  if (!(embeddings instanceof tf.Tensor) || embeddings.rank !== 2) {
    throw new Error(`${fn}: embeddings must be a 2-D tensor [batch, dim]; got ${describe(embeddings)}.`);
  }
  if (!(centers instanceof tf.Tensor) || (centers.rank !== 2 && centers.rank !== 3)) {
    throw new Error(`${fn}: centers must be [classes, dim] or [classes, subCenters, dim]; got ${describe(centers)}.`);
  }
  const [batch, dim] = embeddings.shape as [number, number];
  const numClasses = centers.shape[0]!;
  const subCenters = centers.rank === 3 ? centers.shape[1]! : 1;
  const cdim = centers.shape[centers.rank - 1]!;
  if (cdim !== dim) {
    throw new Error(`${fn}: centers have dim ${cdim} but embeddings have dim ${dim} (shapes [${centers.shape}] vs [${embeddings.shape}]).`);
  }
  if (batch < 1 || dim < 1 || numClasses < 1 || subCenters < 1) {
    throw new Error(`${fn}: empty input (embeddings [${embeddings.shape}], centers [${centers.shape}]).`);
  }
  if (embeddings.dtype !== 'float32' || centers.dtype !== 'float32') {
    throw new Error(`${fn}: embeddings and centers must be float32; got ${embeddings.dtype} and ${centers.dtype}.`);
  }
  return { batch, dim, numClasses, subCenters };
}

/** labels: int32 [B], every value in [0, numClasses). Reads the (small) label tensor to check the range. */
export function checkLabels(fn: string, labels: tf.Tensor, batch: number, numClasses: number): void {
  if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new Error(`${fn}: labels must be a 1-D tensor of length ${batch} (one per embedding); got ${describe(labels)}.`);
  }
  if (labels.dtype !== 'int32') {
    throw new Error(`${fn}: labels must be int32 class indices; got ${labels.dtype} (use tf.tensor1d(labels, 'int32')).`);
  }
  const v = labels.dataSync();
  for (let i = 0; i < v.length; i++) {
    const y = v[i]!;
    if (y < 0 || y >= numClasses) {
      throw new Error(`${fn}: labels[${i}]=${y} is outside [0, ${numClasses}) (number of classes in centers).`);
    }
  }
}

function describe(t: unknown): string {
  return t instanceof tf.Tensor ? `a ${t.rank}-D ${t.dtype} tensor [${t.shape}]` : String(t);
}
