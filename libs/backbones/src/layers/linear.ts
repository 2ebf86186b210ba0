// nn.Linear on the last axis. The weight is stored [in, out] (tfjs matMul layout), the transpose of PyTorch's.
import { tf } from '@facet/engine';
import { torchDefault, type Init } from '../init.js';
import type { ForwardContext, NetworkBuilder } from '../network.js';

export interface LinearOptions {
  bias?: boolean;
  /** Weight initialiser from PyTorch's fan_in = in, fan_out = out. Default: PyTorch's U(±1/√in). */
  init?: (fan: { fanIn: number; fanOut: number }) => Init;
  /** Default: PyTorch's U(±1/√in). */
  biasInit?: Init;
  /** Tokens per sample when the input is [B, N, in] (for the multiply-add count). */
  rows?: number;
}

export function linear(b: NetworkBuilder, name: string, inFeatures: number, outFeatures: number, o: LinearOptions = {}) {
  const fan = { fanIn: inFeatures, fanOut: outFeatures };
  const weight = b.param(`${name}.weight`, [inFeatures, outFeatures], (o.init ?? ((f) => torchDefault(f.fanIn)))(fan));
  const bias = o.bias === false ? undefined : b.param(`${name}.bias`, [outFeatures], o.biasInit ?? torchDefault(inFeatures));
  b.addMacs((o.rows ?? 1) * inFeatures * outFeatures);
  return {
    /** x: [..., in] → [..., out]. */
    apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
      const lead = x.shape.slice(0, -1);
      const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inFeatures]);
      let y: tf.Tensor = tf.matMul(x2, ctx.variable(weight) as tf.Variable<tf.Rank.R2>);
      if (bias) y = tf.add(y, ctx.variable(bias));
      return x.rank === 2 ? y : tf.reshape(y, [...lead, outFeatures]);
    },
  };
}
