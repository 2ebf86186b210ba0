// @facet/onnx
export {};
