import { tf } from '../tf.js';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, batchNormTraining, batchNormTrainingGrad } from './batch-norm.js';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-grads.js';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-grads.js';
import { oneHot } from './one-hot.js';
import { PRELU_GRAD, preluGrad } from './prelu-grad.js';
import { batchMatMul, mean, slice, sum, unsortedSegmentSum } from './reductions.js';
import { captureOriginal, type KernelFn } from './wasm-util.js';

/** Every kernel Facet puts on the wasm backend, and why: missing for training, or present but too slow (the BatchNorm
 * pair and the PReLU gradient are Facet's own fused kernels, see batch-norm.ts and prelu-grad.ts). */
export const WASM_KERNELS: ReadonlyArray<{ name: string; kind: 'added' | 'replaced'; fn: KernelFn }> = [
  { name: 'Conv2DBackpropFilter', kind: 'added', fn: conv2DBackpropFilter },
  { name: 'Conv2DBackpropInput', kind: 'replaced', fn: conv2DBackpropInput },
  { name: 'DepthwiseConv2dNativeBackpropFilter', kind: 'added', fn: depthwiseConv2dNativeBackpropFilter },
  { name: 'DepthwiseConv2dNativeBackpropInput', kind: 'added', fn: depthwiseConv2dNativeBackpropInput },
  { name: 'UnsortedSegmentSum', kind: 'added', fn: unsortedSegmentSum },
  { name: 'BatchMatMul', kind: 'replaced', fn: batchMatMul },
  { name: 'Sum', kind: 'replaced', fn: sum },
  { name: 'Mean', kind: 'replaced', fn: mean },
  { name: 'Slice', kind: 'replaced', fn: slice },
  { name: 'OneHot', kind: 'replaced', fn: oneHot },
  { name: BATCH_NORM_TRAINING, kind: 'added', fn: batchNormTraining },
  { name: BATCH_NORM_TRAINING_GRAD, kind: 'added', fn: batchNormTrainingGrad },
  { name: PRELU_GRAD, kind: 'added', fn: preluGrad },
];

let done = false;

/**
 * Register Facet's training kernels on the (already initialised) wasm backend. Originals are captured first so
 * replacements can fall back to them; re-registering is skipped.
 */
export function registerWasmTrainingKernels(): string[] {
  const names = WASM_KERNELS.map((k) => `${k.name} (${k.kind})`);
  if (done) return names;
  for (const k of WASM_KERNELS) {
    captureOriginal(k.name);
    if (tf.getKernel(k.name, 'wasm')) tf.unregisterKernel(k.name, 'wasm');
    tf.registerKernel({ kernelName: k.name, backendName: 'wasm', kernelFunc: k.fn as unknown as tf.KernelFunc });
  }
  done = true;
  return names;
}
