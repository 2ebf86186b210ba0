// IResNet (insightface arcface_torch/backbones/iresnet.py) read from an ONNX graph, in either export form:
//   stem   Conv3×3 s1 p1 → [BN] → PRelu
//   block  x → BN(bn1) → Conv3×3 s1 → [BN(bn2)] → PRelu → Conv3×3 s(1|2) → [BN(bn3)] → Add ← x | Conv1×1 s2 → [BN]
//   head   BN(bn2) → Flatten → Gemm(fc) → BN(features)
// ([BN] = present in an unfolded export, folded into the Conv's bias in torch's eval export). A block with a
// downsample shortcut starts a stage (insightface's _make_layer: every stage has stride 2); there are four stages.
import { linearToFacet } from './layout.js';
import { Matcher, type Weights } from './map-common.js';

export interface DetectedNetwork {
  family: 'iresnet' | 'mobilefacenet';
  blocks: number[];
  /** Stem channels / 64 (Facet's width multiplier). */
  width: number;
  /** MobileFaceNet: get_mbf's scale (2: insightface's mbf; 1: the original MobileFaceNet of Chen et al. 2018). */
  scale?: 1 | 2;
  /** MobileFaceNet: how the embedding layer was written ('linear': Flatten → Gemm/MatMul; 'conv': 1×1 Conv → Reshape). */
  head?: 'linear' | 'conv';
  embeddingSize: number;
  /** Side of the final feature map, which the head's flatten (IResNet) or GDC kernel (MobileFaceNet) fixes. */
  finalMap: number;
  /** Facet name of the first convolution (input normalisation folds into it). */
  stemConv: string;
  weights: Weights;
}

export function matchIResNet(m: Matcher): DetectedNetwork {
  const g = m.g;
  const stemConv = m.next(m.start, ['Conv'], 'the stem Conv (conv1)');
  const stem = m.convUnit(stemConv, { conv: 'conv1', bn: 'bn1', prelu: 'prelu' }, { kernel: 3, stride: 1, pad: 1, inC: 3 });
  let x = stem.out;
  let channels = stem.channels;
  const blocks: number[] = [];
  for (;;) {
    const uses = m.branches(x);
    const bn = uses.find((n) => n.op === 'BatchNormalization');
    if (!bn) m.fail(uses[0], 'BatchNormalization (a block’s bn1, or the head’s bn2)');
    const afterBn = g.consumers(bn.output);
    if (uses.length === 1 && afterBn.length === 1 && (afterBn[0]!.op === 'Flatten' || afterBn[0]!.op === 'Reshape')) break; // the head
    const shortcut = uses.find((n) => n !== bn);
    if (uses.length !== 2 || !shortcut || (shortcut.op !== 'Conv' && shortcut.op !== 'Add')) {
      m.fail(shortcut ?? bn, 'a residual block: its input used by bn1 and by the shortcut (Conv or Add)');
    }
    const downsample = shortcut.op === 'Conv';
    if (downsample) blocks.push(0);
    if (blocks.length === 0) m.fail(shortcut, 'Conv (the first block of layer1 has a downsample shortcut)');
    const stage = blocks.length;
    const name = `layer${stage}.${blocks[stage - 1]!}`;
    const planes = downsample ? (shortcut.consts[1]?.dims[0] ?? 0) : channels;
    m.seen(bn);
    m.batchNorm(bn, `${name}.bn1`, channels);
    const c1 = m.convUnit(m.next(bn.output, ['Conv'], `Conv (${name}.conv1)`), { conv: `${name}.conv1`, bn: `${name}.bn2`, prelu: `${name}.prelu` }, { kernel: 3, stride: 1, pad: 1, inC: channels });
    const c2 = m.next(c1.out, ['Conv'], `Conv (${name}.conv2)`);
    const main = m.convUnit(c2, { conv: `${name}.conv2`, bn: `${name}.bn3` }, { kernel: 3, stride: downsample ? 2 : 1, pad: 1, inC: c1.channels });
    let skip = x;
    if (downsample) {
      skip = m.convUnit(m.seen(shortcut), { conv: `${name}.downsample.0`, bn: `${name}.downsample.1` }, { kernel: 1, stride: 2, pad: 0, inC: channels }).out;
    }
    const add = m.next(main.out, ['Add'], `Add (${name}: residual sum)`);
    if (!add.inputs.includes(skip)) m.fail(add, `Add of ${name}'s main path and its shortcut`);
    if (main.channels !== planes && downsample) m.fail(add, `${name} with matching main and shortcut channels`);
    blocks[stage - 1]! += 1;
    x = add.output;
    channels = main.channels;
  }
  if (blocks.length !== 4) m.fail(g.consumers(x)[0], `BatchNormalization of a residual block (an IResNet has 4 stages; this graph has ${blocks.length} before its head)`);
  const bn2 = m.seen(g.consumers(x)[0]!);
  m.batchNorm(bn2, 'bn2', channels);
  const fc = m.flattenLinear(bn2.output, 'fc');
  if (fc.inF % channels !== 0 || !Number.isInteger(Math.sqrt(fc.inF / channels))) m.fail(undefined, `fc over a square ${channels}-channel map (it has ${fc.inF} inputs)`);
  const side = Math.sqrt(fc.inF / channels);
  m.weights['fc.weight'] = linearToFacet(fc.weight, fc.outF, fc.inF, [channels, side, side]);
  m.weights['fc.bias'] = fc.bias ?? new Float32Array(fc.outF);
  m.embeddingBatchNorm(fc.out, 'features', fc.outF);
  return { family: 'iresnet', blocks, width: stem.channels / 64, embeddingSize: fc.outF, finalMap: side, stemConv: 'conv1', weights: m.weights };
}
