// Sum and Mean over one contiguous block of axes (BatchNorm statistics over N, H, W; row sums; totals) on the
// addon; tfjs's cpu kernels transpose the tensor first whenever the axes are not the innermost ones. Other axis
// sets and dtypes go to the cpu kernel.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { f32, output, size, type KernelArgs, type MaybeNative, type Tf } from './types.js';

function reduce(mean: boolean): MaybeNative {
  return ({ inputs, attrs, backend }: KernelArgs, tf: Tf) => {
    const { x } = inputs;
    const xs = f32(backend, x);
    if (!x || !xs || x.shape.length === 0) return undefined;
    const axes = [...new Set(tf.util.parseAxisParam(attrs.axis as number | number[], x.shape))].sort((a, b) => a - b);
    if (axes.length === 0 || axes.some((a, i) => i > 0 && a !== axes[i - 1]! + 1)) return undefined;
    const first = axes[0]!;
    const last = axes.at(-1)!;
    const A = size(x.shape.slice(0, first));
    const B = size(x.shape.slice(first, last + 1));
    const C = size(x.shape.slice(last + 1));
    if (B === 0) return undefined; // an empty reduction: the cpu kernel's zeros / NaN conventions
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const out = outputPool.take(A * C);
    nativeAddon().sum(xs, out, [A, B, C], mean ? B : 1);
    return output(backend, outShape, out);
  };
}

export const sum = reduce(false);
export const mean = reduce(true);
