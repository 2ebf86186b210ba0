import { tf } from '../src/index.js';
export { maxAbs, maxAbsDiff, uniformFloat32 as randomArray } from '@facet/test-utils';

/** Run `fn` on the given backend and return the plain arrays of its outputs (inputs given as plain arrays). */
export async function onBackend(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(fn).map((t) => {
    const d = t.dataSync() as Float32Array;
    t.dispose();
    return d;
  });
}

