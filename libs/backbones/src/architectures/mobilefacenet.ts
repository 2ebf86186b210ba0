// MobileFaceNet as insightface builds it (arcface_torch/backbones/mobilefacenet.py, after cavaface; Chen et al.
// 2018): `get_mbf(blocks=(1,4,6,2), scale=2)`. ConvBlock = conv→BN→PReLU, LinearBlock = conv→BN,
// DepthWise = ConvBlock 1×1 → depthwise ConvBlock k×k (stride) → LinearBlock 1×1 (+x when residual),
// ending in conv_sep 1×1 → GDC: global depthwise LinearBlock (7×7 at 112²) → flatten → Linear(no bias) → BN1d.
import { tf } from '@facet/engine';
import { kaimingNormalFanOut } from '../init.js';
import { batchNorm } from '../layers/batch-norm.js';
import { conv2d } from '../layers/conv.js';
import { foldedConvBatchNorm } from '../layers/fold-batch-norm.js';
import { linear } from '../layers/linear.js';
import { prelu } from '../layers/prelu.js';
import { NetworkBuilder, type BuiltNetwork, type ForwardContext, type MapShape } from '../network.js';
import type { ResolvedBackboneOptions } from '../types.js';
import { scaleChannels } from './width.js';

/** _initialize_weights: kaiming_normal_(mode='fan_out', nonlinearity='relu') for Conv2d and Linear. */
const init = (f: { fanOut: number }) => kaimingNormalFanOut(f.fanOut);

interface Module {
  outShape: MapShape;
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
}

interface ConvSpec {
  kernel: number;
  stride?: number;
  padding?: number;
  groups?: number;
}

/** ConvBlock (activation) or LinearBlock (none): conv(no bias) → BN2d(eps 1e-5) [→ PReLU]. */
function convBlock(b: NetworkBuilder, name: string, input: MapShape, outC: number, c: ConvSpec, activation: boolean): Module {
  const conv = conv2d(b, `${name}.layers.0`, input, { outChannels: outC, ...c, init });
  const bn = batchNorm(b, `${name}.layers.1`, outC);
  const act = activation ? prelu(b, `${name}.layers.2`, outC) : undefined;
  return {
    outShape: conv.outShape,
    apply(x, ctx) {
      if (ctx.foldBatchNorm) return foldedConvBatchNorm(x, ctx, conv, `${name}.layers.1`, act ? `${name}.layers.2.weight` : undefined);
      const y = bn.apply(conv.apply(x, ctx), ctx) as tf.Tensor4D;
      return act ? act.apply(y, ctx) : y;
    },
  };
}

function depthWise(b: NetworkBuilder, name: string, input: MapShape, outC: number, residual: boolean, stride: number, groups: number): Module {
  const expand = convBlock(b, `${name}.layers.0`, input, groups, { kernel: 1 }, true);
  const dw = convBlock(b, `${name}.layers.1`, expand.outShape, groups, { kernel: 3, stride, padding: 1, groups }, true);
  const project = convBlock(b, `${name}.layers.2`, dw.outShape, outC, { kernel: 1 }, false);
  return {
    outShape: project.outShape,
    apply(x, ctx) {
      const y = project.apply(dw.apply(expand.apply(x, ctx), ctx), ctx);
      return residual ? tf.add(x, y) : y;
    },
  };
}

function residual(b: NetworkBuilder, name: string, input: MapShape, n: number, groups: number): Module[] {
  const list: Module[] = [];
  for (let i = 0; i < n; i++) list.push(depthWise(b, `${name}.layers.${i}`, input, input[2], true, 1, groups));
  return list;
}

export function buildMobileFaceNet(o: ResolvedBackboneOptions, scale: number): BuiltNetwork {
  const blocks = o.blocks!;
  const b = new NetworkBuilder();
  const w = o.width;
  // 64·scale and 128·scale channels; the grouped 3×3 conv of blocks[0] = 1 has 64 groups of `scale` channels,
  // so the scaled width stays a multiple of the scaled group count.
  const unit = scaleChannels(64, w);
  const c1 = unit * scale;
  const c2 = 2 * unit * scale;
  const [e128, e256, e512] = [128, 256, 512].map((c) => scaleChannels(c, w)) as [number, number, number];
  const sepC = scaleChannels(512, w);

  const modules: Module[] = [];
  const push = (m: Module | Module[]) => {
    for (const x of Array.isArray(m) ? m : [m]) modules.push(x);
  };
  const shapeNow = (): MapShape => modules[modules.length - 1]!.outShape;
  push(convBlock(b, 'layers.0', [o.inputSize, o.inputSize, 3], c1, { kernel: 3, stride: 2, padding: 1 }, true));
  if (blocks[0] === 1) {
    push(convBlock(b, 'layers.1', shapeNow(), c1, { kernel: 3, stride: 1, padding: 1, groups: unit }, true));
  } else {
    push(residual(b, 'layers.1', shapeNow(), blocks[0]!, e128));
  }
  push(depthWise(b, 'layers.2', shapeNow(), c1, false, 2, e128));
  push(residual(b, 'layers.3', shapeNow(), blocks[1]!, e128));
  push(depthWise(b, 'layers.4', shapeNow(), c2, false, 2, e256));
  push(residual(b, 'layers.5', shapeNow(), blocks[2]!, e256));
  push(depthWise(b, 'layers.6', shapeNow(), c2, false, 2, e512));
  push(residual(b, 'layers.7', shapeNow(), blocks[3]!, e256));
  push(convBlock(b, 'conv_sep', shapeNow(), sepC, { kernel: 1 }, true));
  const [fh, fw] = shapeNow();
  if (fh !== fw) throw new Error('internal: non-square final map');
  // GDC: a depthwise conv whose kernel covers the whole final map (7×7 at 112²) → one value per channel
  const gdc = convBlock(b, 'features.layers.0', shapeNow(), sepC, { kernel: fh, groups: sepC }, false);
  const fc = linear(b, 'features.layers.2', sepC, o.embeddingSize, { bias: false, init });
  const bn = batchNorm(b, 'features.layers.3', o.embeddingSize);

  return {
    params: b.params,
    batchNorms: b.batchNorms,
    macs: b.macs,
    embeddingSize: o.embeddingSize,
    forward(x, ctx) {
      let h: tf.Tensor4D = x;
      for (const m of modules) {
        const input = h;
        h = ctx.scope(() => m.apply(input, ctx));
      }
      const last = h;
      return ctx.scope(() => {
        const g = gdc.apply(last, ctx);
        return bn.apply(fc.apply(tf.reshape(g, [-1, sepC]), ctx), ctx) as tf.Tensor2D;
      });
    },
  };
}
