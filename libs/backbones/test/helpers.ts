import { tf } from '@facet/engine';
import { uniformFloat32 } from '@facet/test-utils';
export { maxAbs, maxAbsDiff, uniformFloat32 as randomArray } from '@facet/test-utils';

export function randomImages(batch: number, size: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(uniformFloat32(batch * size * size * 3, seed), [batch, size, size, 3]);
}

