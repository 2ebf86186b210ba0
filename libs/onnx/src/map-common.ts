// Pieces shared by the IResNet and MobileFaceNet graph matchers: following the data flow from one value to the
// node that consumes it, and reading a Conv [→ BatchNormalization] [→ PRelu] unit into Facet's named weights.
import { inputNormalization, type DataNode, type OnnxGraph } from './graph.js';
import { convToFacet, linearToFacet } from './layout.js';
import type { ConstTensor } from './proto.js';

/** Facet's BatchNorm ε for every layer of IResNet and MobileFaceNet (PyTorch's default). */
export const FACET_BN_EPS = 1e-5;

/** The graph does not have the expected architecture; `at` = how far the match got (node index), for reporting. */
export class ArchitectureMismatch extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

export type Weights = Record<string, Float32Array>;

export class Matcher {
  /** Furthest node matched, for choosing which architecture's failure to report. */
  reached = -1;
  readonly weights: Weights = {};
  /** Where the network proper starts: the graph input, or the output of its input normalisation nodes. */
  readonly start: string;
  constructor(
    readonly g: OnnxGraph,
    readonly arch: string,
  ) {
    this.start = inputNormalization(g)?.output ?? g.input.name;
  }

  fail(node: DataNode | undefined, what: string): never {
    const at = node ? node.index : this.g.nodes.length;
    throw new ArchitectureMismatch(node ? `${this.g.describe(node)} is ${node.op} where ${what} was expected` : `the graph ends where ${what} was expected`, at);
  }

  seen(n: DataNode): DataNode {
    this.reached = Math.max(this.reached, n.index);
    return n;
  }

  /** The single consumer of `value`, which must be one of `ops`. */
  next(value: string, ops: string[], what = ops.join(' or ')): DataNode {
    const cs = this.g.consumers(value);
    if (cs.length === 0) this.fail(undefined, what);
    if (cs.length > 1) this.fail(cs[1], `${what} (as the only use of the previous output)`);
    const n = cs[0]!;
    if (!ops.includes(n.op)) this.fail(n, what);
    return this.seen(n);
  }

  /** The consumers of a value that branches (a residual block's input). */
  branches(value: string): DataNode[] {
    return this.g.consumers(value);
  }

  constant(n: DataNode, i: number, what: string): ConstTensor {
    const c = n.consts[i];
    if (!c) this.fail(n, `${n.op} with a constant ${what} (input ${i} is computed in the graph)`);
    return c;
  }

  floats(n: DataNode, i: number, what: string, count: number): Float32Array {
    const c = this.constant(n, i, what);
    if (c.data.length === count) return Float32Array.from(c.data);
    if (c.data.length === 1) return new Float32Array(count).fill(c.data[0]!);
    this.fail(n, `${n.op} with a ${what} of ${count} values (it has ${c.data.length})`);
  }

  /** A BatchNormalization node → Facet's four tensors, the conv bias (if any) moved into the running mean. */
  batchNorm(bn: DataNode, name: string, channels: number, convBias?: Float32Array): void {
    const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
    const mean = this.floats(bn, 3, 'running mean', channels);
    const variance = this.floats(bn, 4, 'running variance', channels);
    // BN(z + b) with mean μ equals BN(z) with mean μ − b; a different ε is absorbed into σ²: σ² + ε = σ'² + ε_Facet
    if (convBias) for (let c = 0; c < channels; c++) mean[c]! -= convBias[c]!;
    if (eps !== FACET_BN_EPS) for (let c = 0; c < channels; c++) variance[c]! += eps - FACET_BN_EPS;
    this.weights[`${name}.weight`] = this.floats(bn, 1, 'scale', channels);
    this.weights[`${name}.bias`] = this.floats(bn, 2, 'bias', channels);
    this.weights[`${name}.running_mean`] = mean;
    this.weights[`${name}.running_var`] = variance;
  }

  /**
   * A BN folded into the conv before it (torch's eval export) leaves only the conv bias b. Facet's inference BN is
   * y = (x − μ)·γ/√(σ² + ε) + β; μ = 0, σ² = 1 − ε, γ = 1, β = b gives y = x + b, the folded conv's own output.
   */
  foldedBatchNorm(name: string, channels: number, convBias?: Float32Array): void {
    this.weights[`${name}.weight`] = new Float32Array(channels).fill(1);
    this.weights[`${name}.bias`] = convBias ?? new Float32Array(channels);
    this.weights[`${name}.running_mean`] = new Float32Array(channels);
    this.weights[`${name}.running_var`] = new Float32Array(channels).fill(1 - FACET_BN_EPS);
  }

  /** A Conv node's geometry checked against what the architecture has there; its weight stored under `name`. */
  conv(n: DataNode, name: string, want: { kernel: number; stride: number; pad: number; groups?: number | 'depthwise'; inC?: number }) {
    if (n.op !== 'Conv') this.fail(n, `Conv (${name})`);
    const w = this.constant(n, 1, 'weight');
    const [outC, inPG, kh, kw] = w.dims as [number, number, number, number];
    const group = typeof n.attrs.group === 'number' ? n.attrs.group : 1;
    const strides = (n.attrs.strides as number[] | undefined) ?? [1, 1];
    const pads = (n.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
    const dil = (n.attrs.dilations as number[] | undefined) ?? [1, 1];
    const autoPad = (n.attrs.auto_pad as string | undefined) ?? 'NOTSET';
    const wantGroups = want.groups === 'depthwise' ? outC : (want.groups ?? 1);
    const geometry = (k: number, s: number, p: number, g: number) => `${k}×${k} Conv, stride ${s}, padding ${p}${g > 1 ? `, ${g} groups` : ''}`;
    const expected = `a ${geometry(want.kernel, want.stride, want.pad, wantGroups)} (${name})`;
    if (
      w.dims.length !== 4 || kh !== want.kernel || kw !== want.kernel || strides.some((s) => s !== want.stride) || pads.some((p) => p !== want.pad) ||
      dil.some((d) => d !== 1) || autoPad !== 'NOTSET' || group !== wantGroups || (want.inC !== undefined && inPG * group !== want.inC)
    ) {
      const actual = `a ${geometry(kh ?? 0, strides[0] ?? 1, pads[0] ?? 0, group)}${dil.some((d) => d !== 1) ? ' (dilated)' : ''}${autoPad !== 'NOTSET' ? ` (auto_pad ${autoPad})` : ''} on ${inPG * group} channels`;
      throw new ArchitectureMismatch(`${this.g.describe(n)} is ${actual} where ${expected}${want.inC !== undefined ? ` on ${want.inC} channels` : ''} was expected`, n.index);
    }
    const f = convToFacet(Float32Array.from(w.data), w.dims, group);
    this.weights[`${name}.weight`] = f.data;
    const bias = n.consts[2] ? this.floats(n, 2, 'bias', outC) : undefined;
    return { outC, bias };
  }

  /**
   * Conv → [BatchNormalization] → [PRelu] under Facet names `convName`, `bnName`, `preluName`. Returns the output
   * value and channel count.
   */
  convUnit(n: DataNode, names: { conv: string; bn: string; prelu?: string }, want: Parameters<Matcher['conv']>[2]): { out: string; channels: number } {
    const { outC, bias } = this.conv(this.seen(n), names.conv, want);
    let out = n.output;
    const after = this.g.consumers(out);
    if (after.length === 1 && after[0]!.op === 'BatchNormalization') {
      this.batchNorm(this.seen(after[0]!), names.bn, outC, bias);
      out = after[0]!.output;
    } else this.foldedBatchNorm(names.bn, outC, bias);
    if (names.prelu) out = this.prelu(this.next(out, ['PRelu'], `PRelu (${names.prelu})`), names.prelu, outC);
    return { out, channels: outC };
  }

  prelu(n: DataNode, name: string, channels: number): string {
    this.weights[`${name}.weight`] = this.floats(n, 1, 'slope', channels);
    return n.output;
  }

  /** Flatten (or Reshape to [N, -1]) → Gemm | MatMul [+ Add]: returns the [out, in] weight, bias and output. */
  flattenLinear(value: string, name: string): { out: string; weight: Float32Array; inF: number; outF: number; bias?: Float32Array } {
    const flat = this.next(value, ['Flatten', 'Reshape'], `Flatten (before ${name})`);
    const lin = this.next(flat.output, ['Gemm', 'MatMul'], `Gemm or MatMul (${name})`);
    const b = this.constant(lin, 1, 'weight');
    if (b.dims.length !== 2) this.fail(lin, `${lin.op} with a 2-D weight (${name})`);
    let weight: Float32Array;
    let outF: number;
    let inF: number;
    const transB = lin.op === 'Gemm' && lin.attrs.transB === 1;
    if (lin.op === 'Gemm' && (lin.attrs.transA === 1 || (lin.attrs.alpha ?? 1) !== 1 || (lin.attrs.beta ?? 1) !== 1)) this.fail(lin, `Gemm with alpha = beta = 1, transA = 0 (${name})`);
    if (transB) {
      [outF, inF] = b.dims as [number, number];
      weight = Float32Array.from(b.data);
    } else {
      [inF, outF] = b.dims as [number, number];
      weight = linearToFacet(Float32Array.from(b.data), inF, outF); // [in, out] → transposed = [out, in]
    }
    let out = lin.output;
    let bias = lin.op === 'Gemm' && lin.consts[2] ? this.floats(lin, 2, 'bias', outF) : undefined;
    if (lin.op === 'MatMul') {
      const after = this.g.consumers(out);
      if (after.length === 1 && after[0]!.op === 'Add' && after[0]!.consts.some(Boolean)) {
        const add = this.seen(after[0]!);
        bias = this.floats(add, add.consts[1] ? 1 : 0, 'bias', outF);
        out = add.output;
      }
    }
    return { out, weight, inF, outF, bias };
  }

  /**
   * The embedding BatchNorm1d after the Linear, or nothing when a graph optimiser (onnx-simplifier, onnxoptimizer)
   * folded it into the Gemm: then the Gemm output is the embedding and the BN becomes the identity (β = `bias`).
   * `bias` is a Linear bias Facet does not hold (MobileFaceNet's Linear has none): moved into the BN as for a conv.
   */
  embeddingBatchNorm(value: string, name: string, channels: number, bias?: Float32Array): void {
    const after = this.g.consumers(value);
    if (after.length === 0 && this.g.outputs.some((o) => o.name === value)) {
      this.foldedBatchNorm(name, channels, bias);
      return;
    }
    const bn = this.next(value, ['BatchNormalization'], `BatchNormalization (${name})`);
    this.batchNorm(bn, name, channels, bias);
    this.end(bn.output, `the ${name} BatchNormalization`);
  }

  /** The embedding must be the graph's output: nothing (such as an L2 normalisation) may follow. */
  end(value: string, what: string): void {
    const after = this.g.consumers(value);
    if (after.length > 0) this.fail(after[0], `the end of the graph after ${what} (Facet's backbones output the raw embedding)`);
    if (!this.g.outputs.some((o) => o.name === value)) this.fail(undefined, `${what} to be the graph output`);
  }
}
