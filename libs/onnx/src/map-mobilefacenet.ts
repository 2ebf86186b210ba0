// MobileFaceNet as insightface's get_mbf builds it (arcface_torch/backbones/mobilefacenet.py, scale 2), read from
// an ONNX graph. Units ([BN] present unfolded, folded into the Conv bias otherwise):
//   ConvBlock    Conv → [BN] → PRelu           LinearBlock  Conv → [BN]
//   DepthWise    ConvBlock 1×1 → ConvBlock k×k depthwise (stride) → LinearBlock 1×1, plus Add(x) when residual
// Sequence: layers.0 ConvBlock 3×3 s2 | layers.1 grouped ConvBlock 3×3 (blocks[0] = 1) or Residual | layers.2
// DepthWise s2 | layers.3 Residual(blocks[1]) | layers.4 DepthWise s2 | layers.5 Residual(blocks[2]) | layers.6
// DepthWise s2 | layers.7 Residual(blocks[3]) | conv_sep ConvBlock 1×1 | GDC: LinearBlock k×k depthwise (k = map
// side) → Flatten → Linear (no bias) → BN1d.
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

export function matchMobileFaceNet(m: Matcher): DetectedNetwork {
  const g = m.g;
  const stem = m.convUnit(m.next(m.start, ['Conv'], 'the stem Conv (layers.0)'), { conv: 'layers.0.layers.0', bn: 'layers.0.layers.1', prelu: 'layers.0.layers.2' }, { kernel: 3, stride: 2, pad: 1, inC: 3 });
  const c1 = stem.channels;
  if (c1 % 2 !== 0) m.fail(g.consumers(stem.out)[0], `a stem of 64·scale channels with scale 2 (it has ${c1})`);
  let x = stem.out;
  const blocks: number[] = [];
  if (g.consumers(x).some((n) => n.op === 'Add')) {
    const r = residuals(m, x, c1, 'layers.1');
    blocks.push(r.count);
    x = r.out;
  } else {
    const conv = m.next(x, ['Conv'], 'Conv (layers.1, grouped 3×3)');
    x = m.convUnit(conv, { conv: 'layers.1.layers.0', bn: 'layers.1.layers.1', prelu: 'layers.1.layers.2' }, { kernel: 3, stride: 1, pad: 1, groups: c1 / 2, inC: c1 }).out;
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
  const fc = m.flattenLinear(gdc.out, 'features.layers.2');
  m.weights['features.layers.2.weight'] = linearToFacet(fc.weight, fc.outF, fc.inF);
  // get_mbf's Linear has no bias; one written by an optimiser that folded the BN1d in goes into that BN
  m.embeddingBatchNorm(fc.out, 'features.layers.3', fc.outF, fc.bias);
  return { family: 'mobilefacenet', blocks, width: c1 / 2 / 64, embeddingSize: fc.outF, finalMap: k, stemConv: 'layers.0.layers.0', weights: m.weights };
}
