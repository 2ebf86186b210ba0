// An ONNX graph as the mapper sees it: initializers and constant sub-graphs evaluated (torch exports without
// constant folding leave e.g. Unsqueeze(PReLU slope) and Transpose(Linear weight) as nodes), shape arithmetic
// (Shape → Gather → Concat → Reshape of `x.view(x.size(0), -1)`) set aside, pass-through ops (Identity,
// inference Dropout, float Cast) removed, leaving the nodes that compute on the image: the "data nodes".
import { readFile } from 'node:fs/promises';
import { decodeModel, readAttributes, readTensor, toNumber, DataType, type AttrValue, type ConstTensor, type ModelProto, type NodeProto } from './proto.js';

export interface DataNode {
  /** Position in the file's node list (ONNX keeps nodes in topological order). */
  index: number;
  op: string;
  name: string;
  /** Every input name, with pass-through aliases resolved ('' = optional input left out). */
  inputs: string[];
  /** The constant value of each input, where it is one (initializers are read on first access). */
  readonly consts: (ConstTensor | undefined)[];
  attrs: Record<string, AttrValue>;
  output: string;
}

export interface GraphValueInfo {
  name: string;
  /** Static sizes as numbers, symbolic ones as their name (or '?'). */
  dims: (number | string)[];
  elemType: number;
}

export interface OnnxGraph {
  file: string;
  model: ModelProto;
  /** Default-domain opset version. */
  opset: number;
  /** The one image input (graph inputs that are initializers are not inputs). */
  input: GraphValueInfo;
  outputs: GraphValueInfo[];
  nodes: DataNode[];
  consumers(value: string): DataNode[];
  /** "node 17 (Conv '/layer1/conv1/Conv')" for messages. */
  describe(node: DataNode): string;
}

const PASS_THROUGH = new Set(['Identity', 'Dropout']);

export async function readOnnxGraph(file: string): Promise<OnnxGraph> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path.`);
  }
  return parseOnnxGraph(bytes, file);
}

function valueInfo(v: { name?: string | null; type?: { tensorType?: { elemType?: number | null; shape?: { dim?: Array<{ dimValue?: unknown; dimParam?: string | null }> | null } | null } | null } | null }): GraphValueInfo {
  const t = v.type?.tensorType;
  const dims = (t?.shape?.dim ?? []).map((d) => {
    const n = toNumber(d.dimValue);
    return n > 0 ? n : d.dimParam || '?';
  });
  return { name: v.name ?? '', dims, elemType: t?.elemType ?? 0 };
}

export function parseOnnxGraph(bytes: Uint8Array, file: string): OnnxGraph {
  const model = decodeModel(bytes, file);
  const g = model.graph!;
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  // initializers are converted to numbers when first used (loadOnnxModel only looks at the first few nodes)
  const initializers = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const folded = new Map<string, ConstTensor>();
  const constants = {
    has: (n: string) => folded.has(n) || initializers.has(n),
    get(n: string): ConstTensor | undefined {
      const hit = folded.get(n);
      if (hit) return hit;
      const t = initializers.get(n);
      if (!t) return undefined;
      const v = readTensor(t, file);
      folded.set(n, v);
      return v;
    },
    set: (n: string, v: ConstTensor) => folded.set(n, v),
  };
  const inputs = (g.input ?? []).filter((i) => !constants.has(i.name ?? '')).map(valueInfo);
  if (inputs.length !== 1) {
    throw new Error(`${file}: the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ') || 'none'}); a recognition model has exactly one, the image batch.`);
  }
  const input = inputs[0]!;
  const kind = new Map<string, 'data' | 'shape'>([[input.name, 'data']]);
  const alias = new Map<string, string>();
  const resolve = (n: string) => alias.get(n) ?? n;
  const nodes: DataNode[] = [];
  (g.node ?? []).forEach((raw, index) => {
    const op = raw.opType ?? '';
    const where = `${file}: node ${index} (${op} '${raw.name ?? ''}')`;
    const inputsOf = (raw.input ?? []).map((n) => (n ? resolve(n) : ''));
    const outputs = raw.output ?? [];
    const attrs = readAttributes(raw, where);
    const isData = inputsOf.some((n) => kind.get(n) === 'data');
    const isShape = inputsOf.some((n) => kind.get(n) === 'shape');
    if (!isData) {
      const value = isShape ? undefined : foldConstant(raw, op, inputsOf.map((n) => (n ? constants.get(n) : undefined)), attrs, opset);
      if (value) constants.set(outputs[0]!, value);
      else for (const o of outputs) if (o) kind.set(o, 'shape');
      return;
    }
    if (op === 'Shape' || op === 'Size') {
      kind.set(outputs[0]!, 'shape');
      return;
    }
    if (PASS_THROUGH.has(op) || (op === 'Cast' && (attrs.to === DataType.FLOAT))) {
      alias.set(outputs[0]!, inputsOf[0]!);
      return;
    }
    for (const o of outputs) if (o) kind.set(o, 'data');
    let consts: (ConstTensor | undefined)[] | undefined;
    nodes.push({
      index,
      op,
      name: raw.name ?? '',
      inputs: inputsOf,
      get consts() {
        return (consts ??= inputsOf.map((n) => (n ? constants.get(n) : undefined)));
      },
      attrs,
      output: outputs[0]!,
    });
  });
  const consumerMap = new Map<string, DataNode[]>();
  for (const n of nodes) for (const i of n.inputs) if (kind.get(i) === 'data') consumerMap.set(i, [...(consumerMap.get(i) ?? []), n]);
  const outputs = (g.output ?? []).map((o) => ({ ...valueInfo(o), name: resolve(o.name ?? '') }));
  return {
    file,
    model,
    opset,
    input,
    outputs,
    nodes,
    consumers: (v) => consumerMap.get(v) ?? [],
    describe: (n) => `node ${n.index} (${n.op}${n.name ? ` '${n.name}'` : ''})`,
  };
}

/** Evaluate a node whose inputs are all constants, for the few ops exporters leave around weights. */
function foldConstant(node: NodeProto, op: string, ins: (ConstTensor | undefined)[], attrs: Record<string, AttrValue>, opset: number): ConstTensor | undefined {
  if (op === 'Constant') {
    if (attrs.value && typeof attrs.value === 'object' && !Array.isArray(attrs.value)) return attrs.value;
    if (typeof attrs.value_float === 'number') return { dims: [], dataType: DataType.FLOAT, data: new Float32Array([attrs.value_float]) };
    if (Array.isArray(attrs.value_floats)) return { dims: [attrs.value_floats.length], dataType: DataType.FLOAT, data: new Float32Array(attrs.value_floats) };
    if (typeof attrs.value_int === 'number') return { dims: [], dataType: DataType.INT64, data: new Float64Array([attrs.value_int]) };
    if (Array.isArray(attrs.value_ints)) return { dims: [attrs.value_ints.length], dataType: DataType.INT64, data: new Float64Array(attrs.value_ints) };
    return undefined;
  }
  const x = ins[0];
  if (!x || (node.input ?? []).some((n, i) => n && !ins[i])) return undefined;
  switch (op) {
    case 'Identity':
      return x;
    case 'Cast': {
      const to = attrs.to as number;
      const floatOut = to === DataType.FLOAT || to === DataType.FLOAT16 || to === DataType.DOUBLE;
      return { dims: x.dims, dataType: floatOut ? DataType.FLOAT : to, data: floatOut ? Float32Array.from(x.data) : Float64Array.from(x.data, Math.trunc) };
    }
    case 'Unsqueeze': {
      const axes = opset >= 13 ? Array.from(ins[1]?.data ?? []) : ((attrs.axes as number[]) ?? []);
      const rank = x.dims.length + axes.length;
      const norm = axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
      const dims = [...x.dims];
      for (const a of norm) dims.splice(a, 0, 1);
      return { ...x, dims };
    }
    case 'Squeeze': {
      const axes = opset >= 13 ? (ins[1] ? Array.from(ins[1].data) : undefined) : (attrs.axes as number[] | undefined);
      const norm = axes?.map((a) => (a < 0 ? a + x.dims.length : a));
      return { ...x, dims: x.dims.filter((d, i) => (norm ? !norm.includes(i) : d !== 1)) };
    }
    case 'Reshape': {
      const shape = Array.from(ins[1]!.data);
      const count = x.data.length;
      const dims = shape.map((d, i) => (d === 0 ? x.dims[i]! : d));
      const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return { ...x, dims: dims.map((d) => (d === -1 ? count / known : d)) };
    }
    case 'Transpose': {
      const rank = x.dims.length;
      const perm = (attrs.perm as number[] | undefined) ?? [...Array(rank).keys()].reverse();
      return transpose(x, perm);
    }
    default:
      return undefined;
  }
}

export function transpose(x: ConstTensor, perm: number[]): ConstTensor {
  const rank = x.dims.length;
  const dims = perm.map((p) => x.dims[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= x.dims[i]!;
  }
  const out = new (x.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(x.data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k]! * inStrides[perm[k]!]!;
    out[o] = x.data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k]! < dims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dims, dataType: x.dataType, data: out };
}

/** A per-channel affine map at the head of the graph: normalised = scale[c]·pixel + shift[c]. */
export interface InputNormalization {
  scale: [number, number, number];
  shift: [number, number, number];
  /** The value after the last normalisation node (where the network proper starts). */
  output: string;
  nodes: DataNode[];
}

/**
 * Arithmetic on the input before the first layer (mxnet-converted insightface models start with
 * `_minusscalar0` Sub 127.5 and `_mulscalar0` Mul 0.0078125): such a graph takes raw 0–255 pixels. Sub/Add/Mul/Div
 * by scalar or per-channel constants compose into one affine map per channel; anything else ends the chain.
 */
export function inputNormalization(g: OnnxGraph): InputNormalization | undefined {
  const scale: [number, number, number] = [1, 1, 1];
  const shift: [number, number, number] = [0, 0, 0];
  const nodes: DataNode[] = [];
  let value = g.input.name;
  for (;;) {
    const cs = g.consumers(value);
    const n = cs[0];
    if (cs.length !== 1 || !n || !['Sub', 'Add', 'Mul', 'Div'].includes(n.op)) break;
    const k = n.inputs.indexOf(value);
    const c = n.consts[1 - k];
    if (k < 0 || !c || (c.data.length !== 1 && c.data.length !== 3) || (n.op !== 'Add' && n.op !== 'Mul' && k !== 0)) break;
    for (let ch = 0; ch < 3; ch++) {
      const v = c.data.length === 1 ? c.data[0]! : c.data[ch]!;
      if (n.op === 'Sub') shift[ch] -= v;
      else if (n.op === 'Add') shift[ch] += v;
      else {
        const f = n.op === 'Mul' ? v : 1 / v;
        scale[ch] *= f;
        shift[ch] *= f;
      }
    }
    nodes.push(n);
    value = n.output;
  }
  return nodes.length ? { scale, shift, output: value, nodes } : undefined;
}
