// Element-wise float32 kernels on the addon: once convolutions are native, tfjs's JavaScript loops for residual
// adds, gradient sums, the optimizer's updates and PReLU were most of a training step. Handled natively: equal
// shapes, or one operand repeating along the other's last axes (a scalar, a per-channel vector); every other
// broadcast and dtype goes back to the cpu kernel.
import type { NativeAddon } from '../addon.js';
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { f32, output, size, type KernelArgs, type MaybeNative, type Tf } from './types.js';

const OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 } as const;
export const NATIVE_BINARY_KERNELS = Object.keys(OPS) as Array<keyof typeof OPS>;

/** `small` (leading 1s dropped) equals the last axes of `big`: it repeats along big's leading axes. */
function repeatsAlong(small: readonly number[], big: readonly number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const tail = small.slice(i);
  return tail.length <= big.length && tail.every((d, j) => d === big[big.length - tail.length + j]);
}

function binary(op: number): MaybeNative {
  return ({ inputs, backend }: KernelArgs, tf: Tf) => {
    const { a, b } = inputs;
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (!a || !b || !av || !bv) return undefined;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = size(outShape);
    if (n === 0 || av.length === 0 || bv.length === 0) return undefined;
    const ok = av.length === n && bv.length === n ? true : av.length === n ? repeatsAlong(b.shape, a.shape) : bv.length === n && repeatsAlong(a.shape, b.shape);
    if (!ok) return undefined;
    const out = outputPool.take(n);
    (nativeAddon() as NativeAddon).binary(op, av, bv, out);
    return output(backend, outShape, out);
  };
}

export const binaryKernels: Record<string, MaybeNative> = Object.fromEntries(Object.entries(OPS).map(([name, op]) => [name, binary(op)]));

/** tfjs's Prelu: x, alpha (broadcast against x). */
export const prelu: MaybeNative = ({ inputs, backend }: KernelArgs) => {
  const { x, alpha } = inputs;
  const xv = f32(backend, x);
  const av = f32(backend, alpha);
  if (!x || !alpha || !xv || !av || av.length === 0 || xv.length === 0 || !repeatsAlong(alpha.shape, x.shape)) return undefined;
  const out = outputPool.take(xv.length);
  nativeAddon().prelu(xv, av, out);
  return output(backend, [...x.shape], out);
};
