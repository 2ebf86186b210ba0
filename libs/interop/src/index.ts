// @facet/interop: insightface's PyTorch checkpoints (.pth/.pt, zip and legacy) and safetensors in and out of
// Facet's backbones; ONNX goes through @facet/onnx. Model files are data: pickles are interpreted, never executed.
export {
  importModel,
  exportModel,
  readStateDictFile,
  EXPORT_FORMATS,
  type ImportModelOptions,
  type ImportReport,
  type ExportModelOptions,
  type ExportFormat,
  type ModelFileFormat,
} from './model-io.js';
export {
  exportArcfaceTorch,
  readArcfaceTorchDir,
  partialFcShard,
  type ArcfaceTorchExport,
  type ArcfaceTorchExportOptions,
  type ArcfaceTorchCheckpoint,
} from './arcface-torch.js';
export { detectArchitecture, type Detection } from './detect.js';
export { backboneFromStateDict, stateDictFromBackbone, type ExportStateDictOptions } from './backbone-map.js';
export { extractStateDict, type StateDictSource } from './state-dict.js';
export { readTorchFile, TORCH_GLOBALS, type TorchValue } from './torch/pth-read.js';
export { writeTorchStateDict, writeTorchFile, type TorchWritable } from './torch/pth-write.js';
export { readSafetensors, writeSafetensors, type SafetensorsFile } from './safetensors.js';
export { PickleError } from './pickle/unpickle.js';
export { tensorDataToFloat32, type DType, type TensorData, type StateDict } from './tensor.js';
