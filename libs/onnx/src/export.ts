// Facet backbone → ONNX, in the form insightface's tools and model zoo use: NCHW float input `input.1`
// [N, 3, S, S] (RGB, normalised (p − 127.5)/127.5 by the caller: no normalisation nodes, so insightface's
// model_zoo ArcFaceONNX applies its mean/std 127.5 itself), output [N, D] raw embeddings, dynamic batch axis.
// BatchNorm is exported unfolded (BatchNormalization nodes with the running statistics): the file keeps every
// Facet weight exactly (re-import is bit-exact), and ONNX Runtime folds Conv+BN itself when it loads the graph.
// Ops: Conv, BatchNormalization, PRelu (slopes [C, 1, 1], as torch exports them), Add, Flatten, Gemm (transB = 1);
// all exist unchanged from opset 9 to 21.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FACET_VERSION, type Backbone } from '@facet/backbones';
import { convFromFacet, linearFromFacet } from './layout.js';
import { DataType, floatTensor, onnx, type NodeProto, type TensorProto } from './proto.js';

export interface ExportOnnxOptions {
  /** Default-domain opset (default 13; 11 or later). */
  opset?: number;
  /** Input name (default 'input.1', as torch.onnx names an unnamed first input and the model zoo files have it). */
  inputName?: string;
  /** Output name (default 'embedding'). */
  outputName?: string;
  /** Fixed batch size instead of the dynamic 'batch' axis. */
  batch?: number;
}

class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;
  constructor(
    private readonly weights: Record<string, { shape: number[]; data: Float32Array }>,
    private readonly eps: Map<string, number>,
  ) {}

  w(name: string): { shape: number[]; data: Float32Array } {
    const t = this.weights[name];
    if (!t) throw new Error(`internal: exportOnnx: the backbone has no weight '${name}'`);
    return t;
  }

  private add(op: string, inputs: string[], attrs: Array<ReturnType<typeof onnx.AttributeProto.create>>, name: string): string {
    const output = `${name}/${op}_output_${this.count++}`;
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: [output], name: `${name}/${op}`, attribute: attrs }));
    return output;
  }

  private init(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** Facet conv `name` (groups from its filter: outC / filter's last axis, outC from the BN that follows). */
  conv(x: string, name: string, outC: number, stride: number, pad: number): string {
    const f = this.w(`${name}.weight`);
    const groups = outC / f.shape[3]!;
    const k = f.shape[0]!;
    const { data, dims } = convFromFacet(f.data, f.shape, outC, groups);
    return this.add('Conv', [x, this.init(`${name}.weight`, dims, data)], [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad]), ints('dilations', [1, 1]), int('group', groups)], name);
  }

  bn(x: string, name: string): string {
    const c = this.w(`${name}.weight`).shape[0]!;
    const inputs = ['weight', 'bias', 'running_mean', 'running_var'].map((p) => this.init(`${name}.${p}`, [c], this.w(`${name}.${p}`).data));
    return this.add('BatchNormalization', [x, ...inputs], [float('epsilon', this.eps.get(name) ?? 1e-5)], name);
  }

  prelu(x: string, name: string): string {
    const s = this.w(`${name}.weight`);
    return this.add('PRelu', [x, this.init(`${name}.weight`, [s.shape[0]!, 1, 1], s.data)], [], name);
  }

  addTensors(a: string, b: string, name: string): string {
    return this.add('Add', [a, b], [], name);
  }

  /** Flatten → Gemm(transB = 1) with the Facet [in, out] weight (rows in NHWC order when `chw` is given). */
  flattenGemm(x: string, name: string, chw?: [number, number, number]): string {
    const f = this.w(`${name}.weight`);
    const [inF, outF] = f.shape as [number, number];
    const flat = this.add('Flatten', [x], [int('axis', 1)], name);
    const inputs = [flat, this.init(`${name}.weight`, [outF, inF], linearFromFacet(f.data, inF, outF, chw))];
    const bias = this.weights[`${name}.bias`];
    if (bias) inputs.push(this.init(`${name}.bias`, [outF], bias.data));
    return this.add('Gemm', inputs, [float('alpha', 1), float('beta', 1), int('transB', 1)], name);
  }

  /** Conv → BN → [PRelu] with insightface's ConvBlock/LinearBlock names (`${name}.layers.{0,1,2}`). */
  convBlock(x: string, name: string, stride: number, pad: number, act: boolean): string {
    const outC = this.w(`${name}.layers.1.weight`).shape[0]!;
    const y = this.bn(this.conv(x, `${name}.layers.0`, outC, stride, pad), `${name}.layers.1`);
    return act ? this.prelu(y, `${name}.layers.2`) : y;
  }
}

const int = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const ints = (name: string, v: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const float = (name: string, f: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });

function iresnetGraph(b: GraphBuilder, x: string, blocks: number[], inputSize: number): void {
  const stemC = b.w('bn1.weight').shape[0]!;
  let h = b.prelu(b.bn(b.conv(x, 'conv1', stemC, 1, 1), 'bn1'), 'prelu');
  let side = inputSize;
  blocks.forEach((n, s) => {
    for (let i = 0; i < n; i++) {
      const name = `layer${s + 1}.${i}`;
      const planes = b.w(`${name}.bn2.weight`).shape[0]!;
      const stride = i === 0 ? 2 : 1;
      let y = b.conv(b.bn(h, `${name}.bn1`), `${name}.conv1`, planes, 1, 1);
      y = b.prelu(b.bn(y, `${name}.bn2`), `${name}.prelu`);
      y = b.bn(b.conv(y, `${name}.conv2`, planes, stride, 1), `${name}.bn3`);
      const skip = i === 0 ? b.bn(b.conv(h, `${name}.downsample.0`, planes, stride, 0), `${name}.downsample.1`) : h;
      h = b.addTensors(y, skip, name);
    }
    side = Math.floor((side - 1) / 2) + 1; // 3×3, stride 2, padding 1
  });
  const c = b.w('bn2.weight').shape[0]!;
  b.bn(b.flattenGemm(b.bn(h, 'bn2'), 'fc', [c, side, side]), 'features');
}

function mobileFaceNetGraph(b: GraphBuilder, x: string, blocks: number[]): void {
  const depthWise = (h: string, name: string, stride: number, residual: boolean) => {
    let y = b.convBlock(h, `${name}.layers.0`, 1, 0, true);
    y = b.convBlock(y, `${name}.layers.1`, stride, 1, true);
    y = b.convBlock(y, `${name}.layers.2`, 1, 0, false);
    return residual ? b.addTensors(h, y, name) : y;
  };
  const residuals = (h: string, name: string, n: number) => {
    for (let i = 0; i < n; i++) h = depthWise(h, `${name}.layers.${i}`, 1, true);
    return h;
  };
  let h = b.convBlock(x, 'layers.0', 2, 1, true);
  h = blocks[0] === 1 ? b.convBlock(h, 'layers.1', 1, 1, true) : residuals(h, 'layers.1', blocks[0]!);
  for (const s of [2, 4, 6]) h = residuals(depthWise(h, `layers.${s}`, 2, false), `layers.${s + 1}`, blocks[s / 2]!);
  h = b.convBlock(h, 'conv_sep', 1, 0, true);
  h = b.convBlock(h, 'features.layers.0', 1, 0, false);
  b.bn(b.flattenGemm(h, 'features.layers.2'), 'features.layers.3');
}

/** The graph family of a registry name that exports to ONNX (IResNet, both MobileFaceNets), else undefined. */
function onnxFamily(name: string): 'iresnet' | 'mobilefacenet' | undefined {
  return name.startsWith('iresnet') ? 'iresnet' : name === 'mobilefacenet' || name === 'mobilefacenet_orig' ? 'mobilefacenet' : undefined;
}

/** Whether `exportOnnx` can write this backbone (by registry name): IResNet, mobilefacenet, mobilefacenet_orig; not ViT. */
export function canExportOnnx(name: string): boolean {
  return onnxFamily(name) !== undefined;
}

/** The ONNX ModelProto bytes of a Facet IResNet or MobileFaceNet (see the file comment for the form). */
export function encodeOnnx(backbone: Backbone, opts: ExportOnnxOptions = {}): Uint8Array {
  const opset = opts.opset ?? 13;
  if (!(Number.isInteger(opset) && opset >= 11 && opset <= 21)) throw new Error(`exportOnnx: opset=${opts.opset} is not supported; use 11–21 (default 13).`);
  const family = onnxFamily(backbone.name);
  if (!family) throw new Error(`exportOnnx: ${backbone.name} cannot be exported to ONNX yet; IResNet and MobileFaceNet can.`);
  if (opts.batch !== undefined && !(Number.isInteger(opts.batch) && opts.batch >= 1)) throw new Error(`exportOnnx: batch=${opts.batch} is invalid; use an integer ≥ 1 or leave it out (dynamic).`);
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(backbone.getWeights())) weights[name] = { shape: t.shape, data: t.dataSync() as Float32Array };
  const eps = new Map(backbone.batchNorms().map((l) => [l.name, l.eps]));
  const b = new GraphBuilder(weights, eps);
  const inputName = opts.inputName ?? 'input.1';
  const outputName = opts.outputName ?? 'embedding';
  const blocks = backbone.options.blocks!;
  if (family === 'iresnet') iresnetGraph(b, inputName, blocks, backbone.inputSize);
  else mobileFaceNetGraph(b, inputName, blocks);
  // the last node (the embedding BatchNormalization) writes the graph output directly
  b.nodes[b.nodes.length - 1]!.output = [outputName];
  const s = backbone.inputSize;
  const batchDim = opts.batch !== undefined ? { dimValue: opts.batch } : { dimParam: 'batch' };
  const valueInfo = (name: string, dims: Array<{ dimValue?: number; dimParam?: string }>) =>
    onnx.ValueInfoProto.create({ name, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(d)) }) }) }) });
  const graph = onnx.GraphProto.create({
    name: `facet-${backbone.name}`,
    node: b.nodes,
    initializer: b.initializers,
    input: [valueInfo(inputName, [batchDim, { dimValue: 3 }, { dimValue: s }, { dimValue: s }])],
    output: [valueInfo(outputName, [batchDim, { dimValue: backbone.embeddingSize }])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'facet',
    producerVersion: FACET_VERSION,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: opset })],
    graph,
    docString: `Facet ${backbone.name}: input NCHW RGB normalised (x - 127.5) / 127.5, output raw ${backbone.embeddingSize}-d embedding (L2-normalise before comparing).`,
    metadataProps: [
      onnx.StringStringEntryProto.create({ key: 'facet.network', value: backbone.name }),
      onnx.StringStringEntryProto.create({ key: 'facet.options', value: JSON.stringify(backbone.options) }),
      onnx.StringStringEntryProto.create({ key: 'normalization', value: JSON.stringify({ mean: 127.5, std: 127.5, layout: 'NCHW', channels: 'RGB' }) }),
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Write `backbone` as an .onnx file, atomically (temporary sibling, fsync, rename). */
export async function exportOnnx(backbone: Backbone, file: string, opts: ExportOnnxOptions = {}): Promise<{ file: string; bytes: number }> {
  const bytes = encodeOnnx(backbone, opts);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`${file}: cannot write the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the directory exists and is writable.`);
  }
  return { file, bytes: bytes.length };
}
