// @facet/onnx: ONNX recognition models in and out of Facet's backbones, and ONNX Runtime inference.
//
//   importOnnxBackbone(file, { inputSize?, seed? })
//     → Promise<{ backbone, network: { name, options }, detectedBecause, folded }>
//     Reads an .onnx file (onnx-proto), recognises IResNet (iresnet18…200, any stage depths) or get_mbf
//     MobileFaceNet from the graph's structure — stage depths, width, embedding size are detected — in either
//     torch export form (BatchNormalization nodes kept, or folded into conv biases), and loads every weight into a
//     new Facet backbone (engine initialised first). Anything else is refused naming the first node that does not
//     fit ("graph is not an IResNet/MobileFaceNet: as IResNet, node 1 (Relu '/Relu') is Relu where PRelu …");
//     such a model still runs through loadOnnxModel.
//   detectBackbone(graph), importOnnxGraph(graph, opts), readOnnxGraph(file), parseOnnxGraph(bytes, file)
//     the same in steps, and the graph view the mapper walks (constants evaluated, shape arithmetic set aside).
//
//   loadOnnxModel(file, { threads?, inputSize?, input?, graphOptimizationLevel? }) → Promise<OnnxModel>
//     onnxruntime-node on the CPU, intraOpNumThreads = os.availableParallelism() by default. OnnxModel: file,
//     inputName, outputName, layout ('NCHW' | 'NHWC'), inputSize, embeddingSize, staticBatch (fixed-batch graphs run
//     chunk by chunk), threads, input ('normalized' | 'pixels'), embed(x, batch?) → Promise<Float32Array> of raw
//     [batch, D] embeddings from NHWC normalised RGB floats ((p − 127.5)/127.5) or a tf tensor, dispose().
//     It satisfies @facet/eval's AsyncEmbeddingModel, so embed/embedImages/evaluatePairs/embedDataset take it.
//
//   exportOnnx(backbone, file, { opset?, inputName?, outputName?, batch? }) → Promise<{ file, bytes }>
//   encodeOnnx(backbone, opts) → Uint8Array
//   canExportOnnx(registryName) → boolean (IResNet, mobilefacenet, mobilefacenet_orig; not ViT)
//     IResNet or MobileFaceNet → opset 13 ONNX: NCHW float input 'input.1' [N, 3, S, S] (dynamic N), output
//     'embedding' [N, D], BatchNorm unfolded, RGB, no normalisation nodes (callers and insightface's ArcFaceONNX
//     apply (p − 127.5)/127.5). Atomic write.
//
//   convToFacet / convFromFacet, linearToFacet / linearFromFacet
//     PyTorch/ONNX ↔ Facet weight layouts (OIHW ↔ HWIO or the grouped filter; [out, in] ↔ [in, out] with IResNet's
//     NCHW → NHWC flatten), shared with @facet/interop's .pth mapping.
export { importOnnxBackbone, importOnnxGraph, detectBackbone, type ImportOnnxOptions, type ImportedOnnxBackbone } from './import.js';
export { readOnnxGraph, parseOnnxGraph, inputNormalization, type OnnxGraph, type DataNode, type GraphValueInfo, type InputNormalization } from './graph.js';
export { loadOnnxModel, type OnnxModel, type OnnxModelOptions, type OnnxEmbedInput } from './runtime.js';
export { exportOnnx, encodeOnnx, canExportOnnx, type ExportOnnxOptions } from './export.js';
export { convToFacet, convFromFacet, linearToFacet, linearFromFacet } from './layout.js';
