// The model behind `facet embed` / `facet eval` / `facet measure`: a Facet model folder or an .onnx file, run by
// ONNX Runtime (every core, native code) or by the tfjs engine. ONNX Runtime gets a Facet model as the ONNX export
// of its weights, made once and cached by content; numerics agree with tfjs to ~1e-6 of the largest value
// (libs/onnx tests), so the runtime is a speed choice, not a results choice.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { loadBackbone, type Backbone } from '@facet/backbones';
import type { EmbeddingSource } from '@facet/eval';
import { canExportOnnx, exportOnnx, importOnnxBackbone, loadOnnxModel } from '@facet/onnx';
import { contentHash, facetCacheDir } from './cache.js';

export type InferenceRuntime = 'auto' | 'onnx' | 'tfjs';
export const INFERENCE_RUNTIMES: readonly InferenceRuntime[] = ['auto', 'onnx', 'tfjs'];

export interface OpenedEmbeddingModel {
  model: EmbeddingSource;
  runtime: 'onnx' | 'tfjs';
  inputSize: number;
  /** Why this runtime (shown by the CLI). */
  why: string;
  dispose(): Promise<void>;
}

/** Families Facet exports to ONNX (libs/onnx: IResNet and get_mbf at both scales; ViT is not exported). */
const onnxExportable = (b: Backbone) => canExportOnnx(b.name);

async function onnxCacheFile(modelDir: string): Promise<string> {
  return join(facetCacheDir('onnx'), `${await contentHash(join(modelDir, 'manifest.json'), join(modelDir, 'weights.bin'))}.onnx`);
}

function tfjsModel(backbone: Backbone, why: string): OpenedEmbeddingModel {
  return { model: backbone, runtime: 'tfjs', inputSize: backbone.inputSize, why, dispose: async () => backbone.dispose() };
}

/**
 * Open `path` (a Facet model folder or an .onnx file) for embedding. 'onnx' insists on ONNX Runtime, 'tfjs' on the
 * tfjs engine; 'auto' (default) takes ONNX Runtime where it loads and the network exports to ONNX, else tfjs.
 */
export async function openEmbeddingModel(path: string, opts: { runtime?: InferenceRuntime; threads?: number } = {}): Promise<OpenedEmbeddingModel> {
  const runtime = opts.runtime ?? 'auto';
  if (!INFERENCE_RUNTIMES.includes(runtime)) throw new Error(`--runtime ${runtime} is not a runtime; use one of ${INFERENCE_RUNTIMES.join(', ')}.`);
  const ortOptions = opts.threads ? { threads: opts.threads } : {};
  const isOnnxFile = existsSync(path) && statSync(path).isFile() && extname(path).toLowerCase() === '.onnx';
  if (isOnnxFile) {
    if (runtime === 'tfjs') {
      const { backbone, detectedBecause } = await importOnnxBackbone(path);
      return tfjsModel(backbone, `tfjs (--runtime tfjs): ${path} mapped onto ${backbone.name} (${detectedBecause})`);
    }
    const m = await loadOnnxModel(path, ortOptions);
    return { model: m, runtime: 'onnx', inputSize: m.inputSize, why: `ONNX Runtime, ${m.threads} threads`, dispose: () => m.dispose() };
  }
  const backbone = await loadBackbone(path);
  if (runtime === 'tfjs') return tfjsModel(backbone, 'tfjs (--runtime tfjs)');
  if (!onnxExportable(backbone)) {
    if (runtime === 'onnx') {
      backbone.dispose();
      throw new Error(`--runtime onnx: ${backbone.name} does not export to ONNX (Facet exports IResNet and MobileFaceNet); use --runtime tfjs.`);
    }
    return tfjsModel(backbone, `tfjs: ${backbone.name} does not export to ONNX`);
  }
  try {
    const file = await onnxCacheFile(path);
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      await exportOnnx(backbone, file);
    }
    const m = await loadOnnxModel(file, ortOptions);
    backbone.dispose();
    return { model: m, runtime: 'onnx', inputSize: m.inputSize, why: `ONNX Runtime, ${m.threads} threads (the model's ONNX export, cached as ${file})`, dispose: () => m.dispose() };
  } catch (e) {
    if (runtime === 'onnx') {
      backbone.dispose();
      throw e;
    }
    return tfjsModel(backbone, `tfjs: ONNX Runtime unavailable (${(e as Error).message.split('\n')[0]})`);
  }
}
