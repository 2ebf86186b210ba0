// IResNet (Deng et al., ArcFace, CVPR 2019; insightface recognition/arcface_torch/backbones/iresnet.py).
// Stem conv3×3(64)→BN→PReLU at full resolution; four stages of IBasicBlocks, every stage stride 2 (112→7);
// block: BN→conv3×3→BN→PReLU→conv3×3(stride)→BN, plus identity or conv1×1(stride)+BN shortcut, no activation
// after the add; head: BN2d→flatten→dropout→Linear(C·7·7→D)→BN1d with γ frozen at 1.
import { tf } from '@facet/engine';
import { normal } from '../init.js';
import { batchNorm } from '../layers/batch-norm.js';
import { conv2d } from '../layers/conv.js';
import { dropout } from '../layers/dropout.js';
import { foldedConvBatchNorm } from '../layers/fold-batch-norm.js';
import { linear } from '../layers/linear.js';
import { prelu } from '../layers/prelu.js';
import { NetworkBuilder, type BuiltNetwork, type ForwardContext, type MapShape } from '../network.js';
import type { ResolvedBackboneOptions } from '../types.js';
import { scaleChannels } from './width.js';

/** Every convolution: nn.init.normal_(w, 0, 0.1) (IResNet.__init__). */
const convInit = () => normal(0.1);
const EPS = 1e-5;

function basicBlock(b: NetworkBuilder, name: string, input: MapShape, planes: number, stride: number, downsample: boolean) {
  const inC = input[2];
  const bn1 = batchNorm(b, `${name}.bn1`, inC, { eps: EPS });
  const conv1 = conv2d(b, `${name}.conv1`, input, { outChannels: planes, kernel: 3, padding: 1, init: convInit });
  const bn2 = batchNorm(b, `${name}.bn2`, planes, { eps: EPS });
  const act = prelu(b, `${name}.prelu`, planes);
  // the stride sits on the block's second convolution
  const conv2 = conv2d(b, `${name}.conv2`, conv1.outShape, { outChannels: planes, kernel: 3, stride, padding: 1, init: convInit });
  const bn3 = batchNorm(b, `${name}.bn3`, planes, { eps: EPS });
  const ds = downsample
    ? {
        conv: conv2d(b, `${name}.downsample.0`, input, { outChannels: planes, kernel: 1, stride, init: convInit }),
        bn: batchNorm(b, `${name}.downsample.1`, planes, { eps: EPS }),
      }
    : undefined;
  if (ds && (ds.conv.outShape[0] !== conv2.outShape[0] || ds.conv.outShape[1] !== conv2.outShape[1])) {
    throw new Error(`internal: ${name}: shortcut and main path disagree`);
  }
  return {
    outShape: conv2.outShape,
    apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
      if (ctx.foldBatchNorm) {
        // bn1 stays an affine op: folding it into conv1 would be wrong at the zero-padded border
        const h = foldedConvBatchNorm(bn1.apply(x, ctx) as tf.Tensor4D, ctx, conv1, `${name}.bn2`, `${name}.prelu.weight`);
        const y = foldedConvBatchNorm(h, ctx, conv2, `${name}.bn3`);
        return tf.add(y, ds ? foldedConvBatchNorm(x, ctx, ds.conv, `${name}.downsample.1`) : x);
      }
      let out = bn1.apply(x, ctx) as tf.Tensor4D;
      out = conv1.apply(out, ctx);
      out = act.apply(bn2.apply(out, ctx) as tf.Tensor4D, ctx);
      out = bn3.apply(conv2.apply(out, ctx), ctx) as tf.Tensor4D;
      const identity = ds ? (ds.bn.apply(ds.conv.apply(x, ctx), ctx) as tf.Tensor4D) : x;
      return tf.add(out, identity);
    },
  };
}

export function buildIResNet(o: ResolvedBackboneOptions): BuiltNetwork {
  const blocks = o.blocks!;
  const b = new NetworkBuilder();
  const size = o.inputSize;
  const stemC = scaleChannels(64, o.width);
  const conv1 = conv2d(b, 'conv1', [size, size, 3], { outChannels: stemC, kernel: 3, padding: 1, init: convInit });
  const bn1 = batchNorm(b, 'bn1', stemC, { eps: EPS });
  const act = prelu(b, 'prelu', stemC);
  let shape = conv1.outShape;
  const stages: Array<ReturnType<typeof basicBlock>[]> = [];
  [64, 128, 256, 512].forEach((base, s) => {
    const planes = scaleChannels(base, o.width);
    const stage = [];
    for (let i = 0; i < blocks[s]!; i++) {
      // insightface's _make_layer: every stage has stride 2, so its first block always has a downsample shortcut
      const block = basicBlock(b, `layer${s + 1}.${i}`, shape, planes, i === 0 ? 2 : 1, i === 0);
      shape = block.outShape;
      stage.push(block);
    }
    stages.push(stage);
  });
  const [fh, fw, fc] = shape;
  const bn2 = batchNorm(b, 'bn2', fc, { eps: EPS });
  const flat = fh * fw * fc; // 512·7·7 = 25088 at 112² (insightface fc_scale = 49)
  // nn.Linear keeps PyTorch's default init (the init loop only touches Conv2d and BatchNorm2d)
  const fcLayer = linear(b, 'fc', flat, o.embeddingSize);
  const features = batchNorm(b, 'features', o.embeddingSize, { eps: EPS, frozenWeight: true });

  return {
    params: b.params,
    batchNorms: b.batchNorms,
    macs: b.macs,
    embeddingSize: o.embeddingSize,
    forward(x, ctx) {
      let h = ctx.scope(() =>
        ctx.foldBatchNorm ? foldedConvBatchNorm(x, ctx, conv1, 'bn1', 'prelu.weight') : act.apply(bn1.apply(conv1.apply(x, ctx), ctx) as tf.Tensor4D, ctx),
      );
      for (const stage of stages) {
        for (const block of stage) {
          const input = h;
          h = ctx.scope(() => block.apply(input, ctx));
        }
      }
      const last = h;
      return ctx.scope(() => {
        let y = bn2.apply(last, ctx);
        // NHWC flatten: feature index (h·W + w)·C + c (PyTorch's NCHW flatten is c·H·W + h·W + w)
        y = dropout(tf.reshape(y, [-1, flat]), o.dropout, ctx);
        y = fcLayer.apply(y, ctx);
        return features.apply(y, ctx) as tf.Tensor2D;
      });
    },
  };
}
