// ONNX Runtime (onnxruntime-node, CPU) inference for any recognition model file: Facet-exported, PyTorch-exported,
// insightface model-zoo, or another architecture altogether (nothing here depends on recognising the graph).
// Facet's images are NHWC normalised RGB ((p − 127.5)/127.5); ONNX recognition models take NCHW (arcface_torch's
// torch2onnx.py, the model zoo), so the batch is transposed here. NHWC graphs ([N, H, W, 3], e.g. tf2onnx) are
// fed as they are.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type ort from 'onnxruntime-node';

// onnxruntime-node is loaded on first use, not at import: the SDK re-exports this lib, and a platform where its
// native binary cannot load must still run everything that is not ONNX Runtime.
let runtimeModule: typeof ort | undefined;
async function onnxRuntime(): Promise<typeof ort> {
  if (!runtimeModule) {
    try {
      runtimeModule = (await import('onnxruntime-node')).default;
    } catch (e) {
      throw new Error(`onnxruntime-node cannot load on this machine (${String((e as Error)?.message ?? e).split('\n')[0]}); use --runtime tfjs.`);
    }
  }
  return runtimeModule;
}
import { inputNormalization, parseOnnxGraph } from './graph.js';

export interface OnnxModelOptions {
  /** Intra-op threads (default os.availableParallelism(): every core). */
  threads?: number;
  /** Input side when the graph's height/width are symbolic. */
  inputSize?: number;
  /** ONNX Runtime graph optimisation (default 'all': it fuses Conv+BN+activation itself). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * What the graph's input takes: 'normalized' ((p − 127.5)/127.5, torch exports and the model zoo) or 'pixels'
   * (0–255; graphs that normalise their own input, e.g. mxnet conversions starting with Sub/Mul). Default 'auto':
   * 'pixels' when arithmetic on the input precedes the first layer. `embed` always takes normalised images.
   */
  input?: 'auto' | 'normalized' | 'pixels';
  /**
   * Let idle intra-op threads spin-wait between runs (ORT's default, true: lowest latency). false frees the cores
   * at once, e.g. when another process's timed work follows on the same cores (the bench interleaves PyTorch).
   */
  allowSpinning?: boolean;
}

/** What `embed` takes: NHWC normalised floats, or anything tensor-like with a shape and async data() (a tf tensor). */
export type OnnxEmbedInput = Float32Array | { shape: number[]; data(): Promise<ArrayLike<number>> };

export interface OnnxModel {
  readonly file: string;
  readonly inputName: string;
  readonly outputName: string;
  /** 'NCHW' ([N, 3, S, S], the usual export) or 'NHWC' ([N, S, S, 3]). */
  readonly layout: 'NCHW' | 'NHWC';
  readonly inputSize: number;
  readonly embeddingSize: number;
  /** The graph's fixed batch size (e.g. 1), run chunk by chunk; undefined when the batch axis is dynamic. */
  readonly staticBatch: number | undefined;
  readonly threads: number;
  /** Whether the graph takes normalised images or raw pixels (embed converts; see OnnxModelOptions.input). */
  readonly input: 'normalized' | 'pixels';
  /**
   * Raw (un-normalised) embeddings [batch, embeddingSize], row-major, of `batch` NHWC normalised RGB images
   * ((p − 127.5)/127.5, Facet's and insightface's convention). Satisfies @facet/eval's AsyncEmbeddingModel.
   */
  embed(x: OnnxEmbedInput, batch?: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

type Dim = number | string;

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!.trim();
}

/** Open an .onnx file in ONNX Runtime (CPU, every core) and check it is an image → embedding model. */
export async function loadOnnxModel(file: string, opts: OnnxModelOptions = {}): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? firstLine(e)}); check the path.`);
  }
  const threads = opts.threads ?? os.availableParallelism();
  if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`loadOnnxModel: threads=${opts.threads} is invalid; use an integer ≥ 1.`);
  const ortModule = await onnxRuntime();
  let session: ort.InferenceSession;
  try {
    session = await ortModule.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
      executionProviders: ['cpu'],
      ...(opts.allowSpinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
    });
  } catch (e) {
    throw new Error(`${file}: ONNX Runtime cannot load it (${firstLine(e)}); the file is truncated, corrupt or not ONNX — re-export or re-download it.`);
  }
  try {
    return await describeSession(ortModule, session, file, threads, opts, opts.input && opts.input !== 'auto' ? opts.input : detectInput(bytes, file));
  } catch (e) {
    await session.release();
    throw e;
  }
}

/** 'pixels' when the graph starts with arithmetic on its input (its own normalisation); a graph this reader cannot
 * parse (ONNX Runtime could) is taken as 'normalized'. */
function detectInput(bytes: Uint8Array, file: string): 'normalized' | 'pixels' {
  try {
    return inputNormalization(parseOnnxGraph(bytes, file)) ? 'pixels' : 'normalized';
  } catch {
    return 'normalized';
  }
}

async function describeSession(ortModule: typeof ort, session: ort.InferenceSession, file: string, threads: number, opts: OnnxModelOptions, input: 'normalized' | 'pixels'): Promise<OnnxModel> {
  if (session.inputNames.length !== 1) {
    throw new Error(`${file}: the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); a recognition model has one, the image batch.`);
  }
  if (session.outputNames.length < 1) throw new Error(`${file}: the model has no outputs.`);
  const inMeta = session.inputMetadata[0]!;
  const outMeta = session.outputMetadata[0]!;
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  if (!inMeta.isTensor || inMeta.type !== 'float32') {
    throw new Error(`${file}: input '${inputName}' is ${inMeta.isTensor ? `a ${inMeta.type} tensor` : 'not a tensor'}; a recognition model takes float32 images.`);
  }
  const dims = inMeta.shape as Dim[];
  const shapeText = `[${dims.join(', ')}]`;
  if (dims.length !== 4) throw new Error(`${file}: input '${inputName}' has shape ${shapeText}; expected [N, 3, H, W] (or [N, H, W, 3]).`);
  const layout: 'NCHW' | 'NHWC' = dims[1] === 3 ? 'NCHW' : dims[3] === 3 ? 'NHWC' : typeof dims[1] === 'number' ? 'NHWC' : 'NCHW';
  if ((layout === 'NCHW' && typeof dims[1] === 'number' && dims[1] !== 3) || (layout === 'NHWC' && dims[3] !== 3)) {
    throw new Error(`${file}: input '${inputName}' has shape ${shapeText}; expected 3 (RGB) channels in [N, 3, H, W] or [N, H, W, 3].`);
  }
  const [h, w] = layout === 'NCHW' ? [dims[2], dims[3]] : [dims[1], dims[2]];
  let inputSize: number;
  if (typeof h === 'number' && typeof w === 'number') {
    if (h !== w) throw new Error(`${file}: input '${inputName}' is ${h}×${w}; recognition crops are square.`);
    if (opts.inputSize !== undefined && opts.inputSize !== h) throw new Error(`${file}: inputSize ${opts.inputSize} was given but the model's input is ${h}×${w}; drop the option.`);
    inputSize = h;
  } else if (opts.inputSize !== undefined) inputSize = opts.inputSize;
  else throw new Error(`${file}: input '${inputName}' has symbolic height/width ${shapeText}; pass { inputSize } (112 for insightface models).`);
  const staticBatch = typeof dims[0] === 'number' && dims[0] > 0 ? dims[0] : undefined;
  const outDims = (outMeta.isTensor ? outMeta.shape : []) as Dim[];
  let embeddingSize = outDims.length === 2 && typeof outDims[1] === 'number' ? outDims[1] : 0;
  const pixels = inputSize * inputSize * 3;

  const runChunk = async (nchwOrNhwc: Float32Array, n: number): Promise<Float32Array> => {
    const shape = layout === 'NCHW' ? [n, 3, inputSize, inputSize] : [n, inputSize, inputSize, 3];
    const feeds = { [inputName]: new ortModule.Tensor('float32', nchwOrNhwc, shape) };
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds, [outputName]);
    } catch (e) {
      throw new Error(`${file}: ONNX Runtime failed on a batch of ${n} (${firstLine(e)}).`);
    }
    const y = result[outputName] as ort.Tensor;
    const out = y.data as Float32Array;
    if (y.type !== 'float32' || y.dims.length !== 2 || y.dims[0] !== n) {
      throw new Error(`${file}: output '${outputName}' is ${y.type} [${y.dims.join(', ')}]; expected float32 [${n}, D] embeddings.`);
    }
    return out;
  };

  if (embeddingSize === 0) {
    // symbolic output width: one probe run tells it
    const n = staticBatch ?? 1;
    embeddingSize = (await runChunk(new Float32Array(n * pixels), n)).length / n;
  }

  return {
    file,
    inputName,
    outputName,
    layout,
    inputSize,
    embeddingSize,
    staticBatch,
    threads,
    input,
    async embed(x, batch) {
      let data: Float32Array;
      let n: number;
      if (x instanceof Float32Array) {
        data = x;
        n = batch ?? x.length / pixels;
      } else {
        const s = x.shape;
        if (s.length !== 4 || s[1] !== inputSize || s[2] !== inputSize || s[3] !== 3) {
          throw new Error(`${file}: embed got a tensor of shape [${s.join(', ')}]; expected NHWC [N, ${inputSize}, ${inputSize}, 3].`);
        }
        data = Float32Array.from(await x.data());
        n = s[0]!;
      }
      if (!(Number.isInteger(n) && n >= 0) || data.length !== n * pixels) {
        throw new Error(`${file}: embed got ${data.length} floats for ${batch ?? '?'} images; expected NHWC ${inputSize}×${inputSize}×3 = ${pixels} per image (normalised RGB).`);
      }
      const out = new Float32Array(n * embeddingSize);
      const chunk = staticBatch ?? Math.max(n, 1);
      for (let start = 0; start < n; start += chunk) {
        const m = Math.min(chunk, n - start);
        // a static-batch graph gets whole chunks: the last one is padded with zeros and the padding dropped
        const rows = staticBatch ?? m;
        const src = data.subarray(start * pixels, (start + m) * pixels);
        const feed = layout === 'NCHW' ? nhwcToNchw(src, m, inputSize, rows) : padded(src, rows * pixels, true);
        // normalised n → pixel p = 127.5·n + 127.5 for graphs that normalise themselves
        if (input === 'pixels') for (let i = 0; i < m * pixels; i++) feed[i] = feed[i]! * 127.5 + 127.5;
        const y = await runChunk(feed, rows);
        if (y.length !== rows * embeddingSize) throw new Error(`${file}: output has ${y.length / rows} values per image where ${embeddingSize} were expected.`);
        out.set(y.subarray(0, m * embeddingSize), start * embeddingSize);
      }
      return out;
    },
    async dispose() {
      await session.release();
    },
  };
}

function padded(x: Float32Array, length: number, copy = false): Float32Array {
  if (x.length === length && !copy) return x;
  const out = new Float32Array(length);
  out.set(x);
  return out;
}

/** [n, S, S, 3] → [rows, 3, S, S] (rows ≥ n; extra rows zero). */
export function nhwcToNchw(x: Float32Array, n: number, size: number, rows = n): Float32Array {
  const hw = size * size;
  const out = new Float32Array(rows * 3 * hw);
  for (let b = 0; b < n; b++) {
    const src = b * hw * 3;
    const dst = b * 3 * hw;
    for (let p = 0; p < hw; p++) {
      out[dst + p] = x[src + p * 3]!;
      out[dst + hw + p] = x[src + p * 3 + 1]!;
      out[dst + 2 * hw + p] = x[src + p * 3 + 2]!;
    }
  }
  return out;
}
