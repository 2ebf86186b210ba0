// Reverse (tf.reverse, the horizontal flip) natively for float32 and int32: the cpu kernel walks every element
// through TensorBuffer index arithmetic.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { output, type KernelArgs, type MaybeNative, type Tf } from './types.js';

function words(v: unknown): Float32Array | undefined {
  if (v instanceof Float32Array) return v;
  if (v instanceof Int32Array) return new Float32Array(v.buffer, v.byteOffset, v.length);
  return undefined;
}

export const reverse: MaybeNative = ({ inputs, attrs, backend }: KernelArgs, tf: Tf) => {
  const { x } = inputs;
  if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0) return undefined;
  const values = backend.data.get(x.dataId)?.values;
  const src = words(values);
  if (!src) return undefined;
  const axes = tf.util.parseAxisParam(attrs.dims as number | number[], x.shape);
  const out = x.dtype === 'int32' ? new Int32Array(src.length) : outputPool.take(src.length);
  nativeAddon().reverse(src, words(out)!, [...x.shape], axes);
  return x.dtype === 'int32' ? backend.makeTensorInfo([...x.shape], 'int32', out) : output(backend, [...x.shape], out as Float32Array);
};
