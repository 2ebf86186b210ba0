// nn.Conv2d with PyTorch geometry on NHWC tensors. groups = 1 → conv2d; groups > 1 → a depthwise convolution
// with channel multiplier outC/groups whose per-group partial sums are added (exact PyTorch grouped conv).
import { tf } from '@facet/engine';
import type { Init } from '../init.js';
import type { ForwardContext, MapShape, NetworkBuilder } from '../network.js';

export interface Conv2dOptions {
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Symmetric zero padding, as PyTorch `padding=p` (TF 'same' would pad bottom/right only on even sizes). */
  padding?: number;
  groups?: number;
  bias?: boolean;
  /** Initialiser from PyTorch's fan_in = (inC/groups)·k², fan_out = outC·k². */
  init: (fan: { fanIn: number; fanOut: number }) => Init;
  /** Bias initialiser (default PyTorch's U(±1/√fan_in)). */
  biasInit?: (fan: { fanIn: number; fanOut: number }) => Init;
}

export interface Conv2d {
  outShape: MapShape;
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
  /**
   * A per-output-channel affine map y = conv(x)·scale + shift (an inference BatchNorm) folded into the weights:
   * scaling output channel o of a convolution is scaling its filter slice o, so conv(x; w·scale) + (b·scale + shift).
   */
  fold(ctx: ForwardContext, scale: tf.Tensor1D, shift: tf.Tensor1D): FoldedConvWeights;
  /** Inference with folded weights and an optional PReLU, as one fused kernel where tfjs has one. */
  applyFolded(x: tf.Tensor4D, folded: FoldedConvWeights, preluAlpha?: tf.Tensor1D): tf.Tensor4D;
  /** The variables the folded weights derive from (the filter, and the bias if any). */
  variables(ctx: ForwardContext): tf.Variable[];
}

export interface FoldedConvWeights {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/** PyTorch output size: ⌊(n + 2p − k)/s⌋ + 1. */
export function convOutputSize(n: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

/** S[j·M + m, m] = 1: right-multiplying [P, inPerGroup·M] rows by S adds the inPerGroup blocks of width M. */
function groupSumMatrix(inPerGroup: number, m: number): tf.Tensor2D {
  const values = new Float32Array(inPerGroup * m * m);
  for (let j = 0; j < inPerGroup; j++) for (let k = 0; k < m; k++) values[(j * m + k) * m + k] = 1;
  return tf.tensor2d(values, [inPerGroup * m, m]);
}

export function conv2d(b: NetworkBuilder, name: string, input: MapShape, o: Conv2dOptions): Conv2d {
  const [h, w, inC] = input;
  const { outChannels: outC, kernel: k } = o;
  const stride = o.stride ?? 1;
  const padding = o.padding ?? 0;
  const groups = o.groups ?? 1;
  if (inC % groups !== 0 || outC % groups !== 0) {
    throw new Error(`internal: ${name}: channels ${inC}→${outC} not divisible by groups ${groups}`);
  }
  const outH = convOutputSize(h, k, stride, padding);
  const outW = convOutputSize(w, k, stride, padding);
  if (outH < 1 || outW < 1) {
    throw new Error(`${name}: a ${h}×${w} feature map is too small for a ${k}×${k} convolution; increase inputSize`);
  }
  const inPerGroup = inC / groups;
  const outPerGroup = outC / groups;
  const fan = { fanIn: inPerGroup * k * k, fanOut: outC * k * k };
  // groups = 1: HWIO filter. groups > 1: depthwise filter [k, k, inC, outC/groups]: input channel i feeds the
  // outPerGroup outputs of its group, so the parameter count equals PyTorch's outC·(inC/groups)·k².
  const weight = b.param(`${name}.weight`, groups === 1 ? [k, k, inC, outC] : [k, k, inC, outPerGroup], o.init(fan));
  const bias = o.bias ? b.param(`${name}.bias`, [outC], (o.biasInit ?? ((f) => ({ kind: 'uniform', bound: 1 / Math.sqrt(f.fanIn) })))(fan)) : undefined;
  b.addMacs(outH * outW * outC * inPerGroup * k * k);
  const pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
    padding === 0 ? 'valid' : [[0, 0], [padding, padding], [padding, padding], [0, 0]];

  return {
    outShape: [outH, outW, outC],
    apply(x, ctx) {
      const filter = ctx.variable(weight) as tf.Variable<tf.Rank.R4>;
      let y: tf.Tensor4D;
      if (groups === 1) {
        y = tf.conv2d(x, filter, stride, pad);
      } else {
        y = tf.depthwiseConv2d(x, filter, stride, pad);
        if (inPerGroup > 1) {
          // channel i·M + m (i = g·inPerGroup + j) holds input j's contribution to output g·M + m: view as
          // [pixels·groups, inPerGroup·M] and sum the inPerGroup partials with a constant 0/1 matrix (one matmul,
          // far cheaper on wasm than strided slices or a middle-axis reduction)
          const [n, oh, ow] = y.shape;
          const rows = tf.reshape(y, [n * oh * ow * groups, inPerGroup * outPerGroup]);
          y = tf.reshape(tf.matMul(rows, groupSumMatrix(inPerGroup, outPerGroup)), [n, oh, ow, outC]);
        }
      }
      return bias ? tf.add(y, ctx.variable(bias)) : y;
    },
    fold(ctx, scale, shift) {
      const filter = ctx.variable(weight) as tf.Variable<tf.Rank.R4>;
      const b = (bias ? tf.add(tf.mul(ctx.variable(bias), scale), shift) : shift) as tf.Tensor1D;
      if (groups === 1) return { filter: tf.mul(filter, scale) as tf.Tensor4D, bias: b };
      // depthwise filter [k, k, inC, M]: input channel i = g·inPerGroup + j feeds outputs g·M + m
      const perInput = tf.reshape(tf.tile(tf.reshape(scale, [groups, 1, outPerGroup]), [1, inPerGroup, 1]), [inC, outPerGroup]);
      return { filter: tf.mul(filter, perInput) as tf.Tensor4D, bias: b };
    },
    applyFolded(x, folded, preluAlpha) {
      const { filter, bias: b } = folded;
      const activation = preluAlpha ? 'prelu' : 'linear';
      if (groups === 1) return tf.fused.conv2d({ x, filter, strides: stride, pad: padding, bias: b, activation, preluActivationWeights: preluAlpha });
      if (inPerGroup === 1) return tf.fused.depthwiseConv2d({ x, filter, strides: stride, pad: padding, bias: b, activation, preluActivationWeights: preluAlpha });
      // several inputs per group (summed by a matmul after the depthwise conv; one layer of MobileFaceNet): bias and
      // PReLU after the sum, no fused kernel
      const [n, oh, ow] = [x.shape[0], outH, outW];
      const partial = tf.depthwiseConv2d(x, filter, stride, pad);
      const rows = tf.reshape(partial, [n * oh * ow * groups, inPerGroup * outPerGroup]);
      const y = tf.add(tf.reshape(tf.matMul(rows, groupSumMatrix(inPerGroup, outPerGroup)), [n, oh, ow, outC]), b) as tf.Tensor4D;
      return preluAlpha ? tf.prelu(y, preluAlpha as tf.Tensor as tf.Tensor4D) : y;
    },
    variables(ctx) {
      return [ctx.variable(weight), ...(bias ? [ctx.variable(bias)] : [])];
    },
  };
}
