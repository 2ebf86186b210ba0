// MobileFaceNet as insightface's get_mbf builds it (arcface_torch/backbones/mobilefacenet.py), read from an ONNX
// graph: scale 2 (insightface's mbf: layers.1 a grouped conv of 2 channels per group) or scale 1 (the original
// MobileFaceNet of Chen et al. 2018, Table 1: layers.1 a depthwise conv, stem 64·width channels; the network of most
// public pretrained MobileFaceNet files). Units ([BN] present unfolded, folded into the Conv bias otherwise):
//   ConvBlock    Conv → [BN] → PRelu           LinearBlock  Conv → [BN]
//   DepthWise    ConvBlock 1×1 → ConvBlock k×k depthwise (stride) → LinearBlock 1×1, plus Add(x) when residual
// Sequence: layers.0 ConvBlock 3×3 s2 | layers.1 grouped ConvBlock 3×3 (blocks[0] = 1) or Residual | layers.2
// DepthWise s2 | layers.3 Residual(blocks[1]) | layers.4 DepthWise s2 | layers.5 Residual(blocks[2]) | layers.6
// DepthWise s2 | layers.7 Residual(blocks[3]) | conv_sep ConvBlock 1×1 | GDC: LinearBlock k×k depthwise (k = map
// side) → Flatten → Linear (no bias) → BN1d, or, as public exports write the embedding layer, → 1×1 Conv (+ bias:
// the BN folded in) [→ BN2d] → Reshape/Flatten to [N, D] (the Conv is the Linear, its bias / BN the BN1d).
import { linearToFacet } from './layout.js';
import { Matcher } from './map-common.js';
import type { DetectedNetwork } from './map-iresnet.js';

function depthWise(m: Matcher, x: string, inC: number, name: string, stride: number, residual: boolean): { out: string; channels: number } {
  const first = m.g.consumers(x).find((n) => n.op === 'Conv');
  if (!first) m.fail(m.g.consumers(x)[0], `Conv (${name}.layers.0, a DepthWise unit's 1×1 expansion)`);
  const expand = m.convUnit(first, { conv: `${name}.layers.0.layers.0`, bn: `${name}.layers.0.layers.1`, prelu: `${name}.layers.0.layers.2` }, { kernel: 1, stride: 1, pad: 0, inC });
  const dwNode = m.next(expand.out, ['Conv'], `Conv (${name}.layers.1, depthwise 3×3)`);
  const dw = m.convUnit(dwNode, { conv: `${name}.layers.1.layers.0`, bn: `${name}.layers.1.layers.1`, prelu: `${name}.layers.1.layers.2` }, { kernel: 3, stride, pad: 1, groups: 'depthwise', inC: expand.channels });
  const projNode = m.next(dw.out, ['Conv'], `Conv (${name}.layers.2, 1×1 projection)`);
  const proj = m.convUnit(projNode, { conv: `${name}.layers.2.layers.0`, bn: `${name}.layers.2.layers.1` }, { kernel: 1, stride: 1, pad: 0, inC: dw.channels });
  if (!residual) return proj;
  const add = m.next(proj.out, ['Add'], `Add (${name}: residual sum)`);
  if (!add.inputs.includes(x)) m.fail(add, `Add of ${name}'s input and output`);
  return { out: add.output, channels: proj.channels };
}

/** Residual units while the current value feeds an Add (the residual shortcut). */
function residuals(m: Matcher, x: string, channels: number, name: string): { out: string; count: number } {
  let count = 0;
  while (m.g.consumers(x).some((n) => n.op === 'Add')) {
    x = depthWise(m, x, channels, `${name}.layers.${count}`, 1, true).out;
    count++;
  }
  return { out: x, count };
}

/**
 * The embedding layer written as a 1×1 Conv on the GDC's [N, C, 1, 1] output (weight [D, C, 1, 1] = the Linear's
 * [out, in]; its bias = the folded BN1d, or a BN2d after it when unfolded), then Reshape/Flatten to [N, D] as the
 * graph's output. Facet's features.layers.2 (Linear, no bias) + features.layers.3 (BN1d) compute the same.
 */
function convHead(m: Matcher, value: string, inC: number): number {
  const conv = m.next(value, ['Conv'], 'Flatten or a 1×1 Conv (features.layers.2, the embedding layer)');
  const { outC, bias } = m.conv(conv, 'features.layers.2.conv', { kernel: 1, stride: 1, pad: 0, inC });
  // m.conv stored a [1, 1, C, D] filter: the same floats as the Linear's [C, D]
  m.weights['features.layers.2.weight'] = m.weights['features.layers.2.conv.weight']!;
  delete m.weights['features.layers.2.conv.weight'];
  let out = conv.output;
  const after = m.g.consumers(out);
  if (after.length === 1 && after[0]!.op === 'BatchNormalization') {
    m.batchNorm(m.seen(after[0]!), 'features.layers.3', outC, bias);
    out = after[0]!.output;
  } else m.foldedBatchNorm('features.layers.3', outC, bias);
  const flat = m.next(out, ['Reshape', 'Flatten'], 'Reshape or Flatten of the [N, D, 1, 1] embedding to [N, D]');
  if (flat.op === 'Reshape') {
    const shape = flat.consts[1]?.data;
    if (shape && (shape.length !== 2 || (shape[1] !== outC && shape[1] !== -1))) m.fail(flat, `a Reshape to [N, ${outC}] (it reshapes to [${Array.from(shape).join(', ')}])`);
  }
  m.end(flat.output, 'the embedding Reshape');
  return outC;
}

export function matchMobileFaceNet(m: Matcher): DetectedNetwork {
  const g = m.g;
  const stem = m.convUnit(m.next(m.start, ['Conv'], 'the stem Conv (layers.0)'), { conv: 'layers.0.layers.0', bn: 'layers.0.layers.1', prelu: 'layers.0.layers.2' }, { kernel: 3, stride: 2, pad: 1, inC: 3 });
  const c1 = stem.channels;
  let x = stem.out;
  const blocks: number[] = [];
  // get_mbf's stem has 64·scale·width channels and its layers.1 (blocks[0] = 1) 64·width groups: 2 channels per
  // group at scale 2, a depthwise conv at scale 1. With blocks[0] > 1 the first expansion (128·width) tells.
  let scale: 1 | 2;
  if (g.consumers(x).some((n) => n.op === 'Add')) {
    const firstExpansion = g.consumers(x).find((n) => n.op === 'Conv')?.consts[1]?.dims[0] ?? 0;
    scale = 2 * c1 === firstExpansion ? 1 : 2;
    const r = residuals(m, x, c1, 'layers.1');
    blocks.push(r.count);
    x = r.out;
  } else {
    const conv = m.next(x, ['Conv'], 'Conv (layers.1, grouped or depthwise 3×3)');
    const groups = typeof conv.attrs.group === 'number' ? conv.attrs.group : 1;
    if (groups === c1) scale = 1;
    else if (2 * groups === c1) scale = 2;
    else {
      m.fail(conv, `a 3×3 Conv on the ${c1}-channel stem with ${c1} groups (depthwise: the original MobileFaceNet, get_mbf scale 1) or ${c1 / 2} groups (get_mbf scale 2) — it has ${groups} (layers.1)`);
    }
    x = m.convUnit(conv, { conv: 'layers.1.layers.0', bn: 'layers.1.layers.1', prelu: 'layers.1.layers.2' }, { kernel: 3, stride: 1, pad: 1, groups, inC: c1 }).out;
    blocks.push(1);
  }
  let channels = c1;
  for (const s of [2, 4, 6]) {
    const down = depthWise(m, x, channels, `layers.${s}`, 2, false);
    channels = down.channels;
    x = down.out;
    const r = residuals(m, x, channels, `layers.${s + 1}`);
    blocks.push(r.count);
    x = r.out;
  }
  const sep = m.convUnit(m.next(x, ['Conv'], 'Conv (conv_sep, 1×1)'), { conv: 'conv_sep.layers.0', bn: 'conv_sep.layers.1', prelu: 'conv_sep.layers.2' }, { kernel: 1, stride: 1, pad: 0, inC: channels });
  const gdcNode = m.next(sep.out, ['Conv'], 'Conv (features.layers.0, the GDC global depthwise conv)');
  const k = gdcNode.consts[1]?.dims[2] ?? 0;
  const gdc = m.convUnit(gdcNode, { conv: 'features.layers.0.layers.0', bn: 'features.layers.0.layers.1' }, { kernel: k, stride: 1, pad: 0, groups: 'depthwise', inC: sep.channels });
  const width = c1 / scale / 64;
  const common = { family: 'mobilefacenet' as const, blocks, width, scale, finalMap: k, stemConv: 'layers.0.layers.0' };
  if (g.consumers(gdc.out).length === 1 && g.consumers(gdc.out)[0]!.op === 'Conv') {
    return { ...common, head: 'conv', embeddingSize: convHead(m, gdc.out, gdc.channels), weights: m.weights };
  }
  const fc = m.flattenLinear(gdc.out, 'features.layers.2');
  m.weights['features.layers.2.weight'] = linearToFacet(fc.weight, fc.outF, fc.inF);
  // get_mbf's Linear has no bias; one written by an optimiser that folded the BN1d in goes into that BN
  m.embeddingBatchNorm(fc.out, 'features.layers.3', fc.outF, fc.bias);
  return { ...common, head: 'linear', embeddingSize: fc.outF, weights: m.weights };
}
