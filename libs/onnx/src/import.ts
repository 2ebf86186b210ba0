// ONNX → Facet backbone: read the graph, recognise IResNet or MobileFaceNet from its structure (blocks, width,
// embedding size detected, not assumed), and load the weights into a freshly built Facet backbone.
import { createBackbone, type Backbone, type BackboneOptions } from '@facet/backbones';
import { inputNormalization, parseOnnxGraph, readOnnxGraph, type OnnxGraph } from './graph.js';
import { ArchitectureMismatch, Matcher } from './map-common.js';
import { matchIResNet, type DetectedNetwork } from './map-iresnet.js';
import { matchMobileFaceNet } from './map-mobilefacenet.js';

export interface ImportOnnxOptions {
  /** Input side when the graph's height/width are symbolic (default: the graph's static size). */
  inputSize?: number;
  /** Facet backbone seed (only affects training randomness after import; every weight comes from the file). */
  seed?: number;
}

export interface ImportedOnnxBackbone {
  backbone: Backbone;
  /** Registry name and options to rebuild the same architecture with createBackbone. */
  network: { name: string; options: BackboneOptions };
  /** One line: what was recognised and from which evidence. */
  detectedBecause: string;
  /** True when the file had BatchNorm folded into convolution biases (torch's eval export, the model zoo). */
  folded: boolean;
}

const IRESNET_DEPTHS: Record<string, number[]> = { iresnet18: [2, 2, 2, 2], iresnet34: [3, 4, 6, 3], iresnet50: [3, 4, 14, 3], iresnet100: [3, 13, 30, 3], iresnet200: [6, 26, 60, 6] };
const MBF_BLOCKS = [1, 4, 6, 2];

/** Which architecture the graph is, with its weights in Facet's names and layouts; refusal names the first mismatch. */
export function detectBackbone(g: OnnxGraph): DetectedNetwork & { folded: boolean; bnNodes: number } {
  const tries: Array<{ arch: string; error: ArchitectureMismatch }> = [];
  for (const [arch, match] of [['IResNet', matchIResNet], ['MobileFaceNet', matchMobileFaceNet]] as const) {
    try {
      const net = match(new Matcher(g, arch));
      const bnNodes = g.nodes.filter((n) => n.op === 'BatchNormalization').length;
      const biasedConvs = g.nodes.filter((n) => n.op === 'Conv' && n.consts[2]).length;
      return { ...net, folded: biasedConvs > 0, bnNodes };
    } catch (e) {
      if (!(e instanceof ArchitectureMismatch)) throw e;
      tries.push({ arch, error: e });
    }
  }
  // report the architecture the graph matched furthest first
  tries.sort((a, b) => b.error.at - a.error.at);
  throw new Error(
    `${g.file}: graph is not an IResNet/MobileFaceNet (Facet cannot train or fine-tune it): ${tries.map((t) => `as ${t.arch}, ${t.error.message}`).join('; ')}. It can still run for inference through ONNX Runtime (facet embed/eval --runtime onnx ${g.file}; loadOnnxModel).`,
  );
}

function inputSide(g: OnnxGraph, opts: ImportOnnxOptions): number {
  const d = g.input.dims;
  if (d.length !== 4 || (typeof d[1] === 'number' && d[1] !== 3)) {
    throw new Error(`${g.file}: input '${g.input.name}' has shape [${d.join(', ')}]; a recognition model takes [N, 3, H, W] (NCHW RGB).`);
  }
  const [h, w] = [d[2], d[3]];
  if (typeof h === 'number' && typeof w === 'number') {
    if (h !== w) throw new Error(`${g.file}: input '${g.input.name}' is ${h}×${w}; Facet's backbones take square inputs.`);
    if (opts.inputSize !== undefined && opts.inputSize !== h) throw new Error(`${g.file}: inputSize ${opts.inputSize} was given but the graph's input is ${h}×${w}; drop the option.`);
    return h;
  }
  if (opts.inputSize === undefined) throw new Error(`${g.file}: input '${g.input.name}' has symbolic height/width [${d.join(', ')}]; pass { inputSize } (112 for insightface models).`);
  return opts.inputSize;
}

/**
 * A graph that normalises its own input (n = s_c·(p − m_c), mxnet-converted models: m = 127.5, s = 1/128) maps onto
 * Facet, whose input is (p − 127.5)/127.5, when m_c = 127.5: then n = k_c·input with k_c = 127.5·s_c, a per-channel
 * scale that folds exactly into the stem conv's input channels (0 stays 0, so the zero padding agrees). Another
 * mean would move the padding value and is refused. Returns the note for `detectedBecause`.
 */
function foldInputNormalization(g: OnnxGraph, stem: Float32Array): string {
  const norm = inputNormalization(g);
  if (!norm) return '';
  const mean = norm.scale.map((a, c) => -norm.shift[c]! / a);
  if (mean.some((m) => !(Math.abs(m - 127.5) <= 1e-3))) {
    throw new Error(
      `${g.file}: the graph normalises its input as (x − [${mean.map((m) => +m.toFixed(4)).join(', ')}])·[${norm.scale.map((v) => +v.toPrecision(6)).join(', ')}] (${norm.nodes.map((n) => n.op).join(', ')} before the first layer); Facet's backbones take (x − 127.5)/127.5 and only a mean of 127.5 maps exactly. Run it through ONNX Runtime (loadOnnxModel), which feeds such a graph raw pixels.`,
    );
  }
  const k = norm.scale.map((s) => s * 127.5);
  // Facet stem filter [3, 3, 3, C] (both stems are 3×3 on 3 channels): tap t, input channel i holds C values
  const c = stem.length / 27;
  for (let t = 0; t < 9; t++) for (let i = 0; i < 3; i++) for (let o = 0; o < c; o++) stem[(t * 3 + i) * c + o]! *= k[i]!;
  return `; input normalisation nodes (${norm.nodes.map((n) => n.op).join(', ')}: mean 127.5, scale ${k.map((v) => +v.toPrecision(6)).join('/')} of Facet's) folded into the stem conv`;
}

function registryName(net: DetectedNetwork): string {
  if (net.family === 'mobilefacenet') return net.scale === 1 ? 'mobilefacenet_orig' : 'mobilefacenet';
  const hit = Object.entries(IRESNET_DEPTHS).find(([, b]) => b.join() === net.blocks.join());
  return hit ? hit[0] : 'iresnet18';
}

/** The graph's batch axis: symbolic, or fixed (a static batch-1 export, which ONNX Runtime runs image by image). */
function batchText(g: OnnxGraph): string {
  const n = g.input.dims[0];
  return typeof n === 'number' && n > 0 ? `[${n} (static batch: ONNX Runtime runs it ${n === 1 ? 'image by image' : `${n} images at a time`}; Facet's import takes any batch)` : '[N';
}

function headText(net: DetectedNetwork): string {
  return net.head === 'conv' ? 'embedding layer as a 1×1 Conv → Reshape (Linear + BN1d)' : 'Linear → BN1d';
}

/** Map an already-decoded graph onto a Facet backbone (the engine must be initialised). */
export function importOnnxGraph(g: OnnxGraph, opts: ImportOnnxOptions = {}): ImportedOnnxBackbone {
  const net = detectBackbone(g);
  const inputSize = inputSide(g, opts);
  const normalisation = foldInputNormalization(g, net.weights[`${net.stemConv}.weight`]!);
  const name = registryName(net);
  const custom = net.family === 'iresnet' ? !Object.values(IRESNET_DEPTHS).some((b) => b.join() === net.blocks.join()) : net.blocks.join() !== MBF_BLOCKS.join();
  const options: BackboneOptions = { inputSize, width: net.width, embeddingSize: net.embeddingSize, blocks: net.blocks, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) };
  let backbone: Backbone;
  try {
    backbone = createBackbone(name, options);
  } catch (e) {
    throw new Error(`${g.file}: the graph looks like ${name} (width ${net.width}, blocks [${net.blocks}]) but Facet cannot build it: ${(e as Error).message}`);
  }
  try {
    backbone.setWeights(net.weights);
  } catch (e) {
    backbone.dispose();
    throw new Error(`${g.file}: the graph has ${name}'s structure but its tensors do not fit Facet's ${name} (width ${net.width}, input ${inputSize}, embedding ${net.embeddingSize}): ${(e as Error).message.split('\n')[0]}`);
  }
  const form = net.folded ? `BatchNorm folded into conv biases (${net.bnNodes} BatchNormalization nodes left)` : `BatchNorm unfolded (${net.bnNodes} BatchNormalization nodes)`;
  const arch =
    net.family === 'iresnet'
      ? `IResNet: 3×3 stride-1 stem of ${Math.round(net.width * 64)} channels (width ${net.width}), stages [${net.blocks.join(',')}] of IBasicBlocks (BN-conv-BN-PReLU-conv-BN + shortcut), BN2d → flatten of a ${net.finalMap}×${net.finalMap} map → fc → BN1d (${net.embeddingSize}-d)`
      : net.scale === 1
        ? `original MobileFaceNet (Chen et al. 2018; get_mbf scale 1): 3×3 stride-2 stem of ${Math.round(net.width * 64)} channels (width ${net.width}), ${net.blocks[0] === 1 ? 'depthwise 3×3 layers.1, ' : ''}blocks [${net.blocks.join(',')}], conv_sep → ${net.finalMap}×${net.finalMap} GDC → ${headText(net)} (${net.embeddingSize}-d)`
        : `MobileFaceNet (get_mbf, scale 2): 3×3 stride-2 stem of ${Math.round(net.width * 128)} channels (width ${net.width}), blocks [${net.blocks.join(',')}], conv_sep → ${net.finalMap}×${net.finalMap} GDC → ${headText(net)} (${net.embeddingSize}-d)`;
  return {
    backbone,
    network: { name, options },
    detectedBecause: `${arch}; ${form}; input ${g.input.name} ${batchText(g)}, 3, ${inputSize}, ${inputSize}]${normalisation}${custom ? `; stage depths differ from ${name}'s defaults` : ''}`,
    folded: net.folded,
  };
}

/** Read an .onnx file and map it onto a Facet backbone (the engine must be initialised: initEngine()). */
export async function importOnnxBackbone(file: string, opts: ImportOnnxOptions = {}): Promise<ImportedOnnxBackbone> {
  return importOnnxGraph(await readOnnxGraph(file), opts);
}

export { parseOnnxGraph, readOnnxGraph };
