import * as tf from '@tensorflow/tfjs';
import { maxAbs, maxAbsDiff } from '@facet/test-utils';
import { nativeStatus, registerNativeBackend } from '../src/index.js';

export { tf };
export { maxAbs, maxAbsDiff, uniformFloat32 as randomArray } from '@facet/test-utils';

export const FACET_NAMES = { batchNormTraining: 'FacetBatchNormTraining', batchNormTrainingGrad: 'FacetBatchNormTrainingGrad', preluGrad: 'FacetPreluGrad' };

/** Whether the addon is built here; when it is not, the kernel suites have nothing to run (addon.test.ts checks the
 * one-line reason instead). */
tf.env().set('PROD', true); // no "install tfjs-node" banner when the cpu-derived backends start
export const addonLoaded = nativeStatus().loaded;
if (addonLoaded) {
  // two threads whatever the machine's load, so the per-thread partial sums and their merge are what gets tested
  const r = registerNativeBackend(tf, { facetKernels: FACET_NAMES, threads: 2 });
  if (!r.ok) throw new Error(r.reason);
}

/** Run `fn` on the given backend and return the plain arrays of its outputs. */
export async function onBackend(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(fn).map((t) => {
    const d = t.dataSync() as Float32Array;
    t.dispose();
    return d;
  });
}

/** Native against the cpu backend, output by output, to `rel` of each output's largest value. */
export async function expectNativeMatchesCpu(label: string, fn: () => tf.Tensor[], rel = 2e-5): Promise<number[]> {
  const ref = await onBackend('cpu', fn);
  const got = await onBackend('native', fn);
  const errs = ref.map((r, i) => maxAbsDiff(got[i]!, r) / Math.max(1e-30, maxAbs(r)));
  for (let i = 0; i < ref.length; i++) {
    if (got[i]!.length !== ref[i]!.length) throw new Error(`${label}: output ${i} has ${got[i]!.length} values, cpu ${ref[i]!.length}`);
    if (!(errs[i]! <= rel)) throw new Error(`${label}: output ${i} differs by ${errs[i]!.toExponential(2)} of its largest value (limit ${rel})`);
  }
  return errs;
}
