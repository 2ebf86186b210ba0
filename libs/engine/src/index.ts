export { tf } from './tf.js';
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Scalar, Rank, TensorLike } from './tf.js';
export {
  initEngine,
  engineInfo,
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendAttempt,
  type EngineInfo,
  type InitEngineOptions,
} from './backend.js';
export { WASM_KERNELS, registerWasmTrainingKernels } from './kernels/register.js';
export { nativeEngineInfo, type NativeEngineInfo } from './native.js';
export { nativeStatus, type NativeStatus } from '@facet/native';
export { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from './kernels/batch-norm.js';
export { PRELU_GRAD } from './kernels/prelu-grad.js';
export { conv2dFilterGradient, conv2dInputGradient } from './kernels/conv2d-grads.js';
export { depthwiseFilterGradient, depthwiseInputGradient } from './kernels/depthwise-grads.js';
export { probeThroughput, type ProbeResult } from './probe.js';
export { workerScriptUrl, type WorkerScriptOptions } from './worker-script.js';
export { mulberry32 } from './random.js';
