// tfjs's element-wise float32 functions of one tensor on the addon (addon/unary.cc): same formulas as the cpu
// kernels, evaluated in double where those use JavaScript's Math. int32 inputs go back to the cpu kernels.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { f32, output, type KernelArgs, type MaybeNative } from './types.js';

const OPS = {
  Exp: 0, Log: 1, Sqrt: 2, Rsqrt: 3, Square: 4, Abs: 5, Neg: 6, Relu: 7, Relu6: 8, Sigmoid: 9, Tanh: 10, Reciprocal: 11, ClipByValue: 12, LeakyRelu: 13,
} as const;

function unary(name: keyof typeof OPS): MaybeNative {
  const op = OPS[name];
  return ({ inputs, attrs, backend }: KernelArgs) => {
    const { x } = inputs;
    const xv = f32(backend, x);
    if (!x || !xv) return undefined;
    const [a, b] = name === 'ClipByValue' ? [attrs.clipValueMin as number, attrs.clipValueMax as number] : name === 'LeakyRelu' ? [attrs.alpha as number, 0] : [0, 0];
    const out = outputPool.take(xv.length);
    if (xv.length > 0) nativeAddon().unary(op, xv, out, a, b);
    return output(backend, [...x.shape], out);
  };
}

export const unaryKernels: Record<string, MaybeNative> = Object.fromEntries(Object.keys(OPS).map((name) => [name, unary(name as keyof typeof OPS)]));
