// @facet/sdk: the typed public surface of Facet. Everything a user or the CLI needs is re-exported here, so that
// one import gives one tfjs instance and one engine.
export {
  tf,
  initEngine,
  engineInfo,
  BACKEND_CHOICES,
  WASM_KERNELS,
  probeThroughput,
  type BackendChoice,
  type BackendAttempt,
  type EngineInfo,
  type InitEngineOptions,
  type ProbeResult,
  type Tensor,
  type Tensor1D,
  type Tensor2D,
  type Tensor3D,
  type Tensor4D,
  type Scalar,
} from '@facet/engine';
export { doctor, type DoctorReport } from './doctor.js';
export { embedTwoViews, type EmbedTwoViewsOptions } from './embed-two-views.js';
export { initModelFolder, importCacheDir } from './init-from-file.js';
export { alignedFolder, type AlignedFolder, type AlignSettings } from './aligned-folder.js';
export { openEmbeddingModel, INFERENCE_RUNTIMES, type InferenceRuntime, type OpenedEmbeddingModel } from './embedding-model.js';
export * from '@facet/metrics';
export * from '@facet/plot';
export * from '@facet/eval';
export * from '@facet/heads';
export * from '@facet/partial-fc';
export * from '@facet/backbones';
export * from '@facet/data';
export * from '@facet/train';
export * from '@facet/quality';
export * from '@facet/inversion';
export * from '@facet/repro';
export * from '@facet/interop';
export * from '@facet/onnx';
export * from '@facet/align';
