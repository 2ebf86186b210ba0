// @facet/onnx: ONNX recognition models in and out of Facet's backbones, and ONNX Runtime inference.
export { importOnnxBackbone, importOnnxGraph, detectBackbone, type ImportOnnxOptions, type ImportedOnnxBackbone } from './import.js';
export { readOnnxGraph, parseOnnxGraph, type OnnxGraph, type DataNode, type GraphValueInfo } from './graph.js';
export { loadOnnxModel, type OnnxModel, type OnnxModelOptions, type OnnxEmbedInput } from './runtime.js';
export { exportOnnx, encodeOnnx, type ExportOnnxOptions } from './export.js';
