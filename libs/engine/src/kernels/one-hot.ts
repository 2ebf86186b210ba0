// tfjs-backend-wasm's OneHot writes int32 bit patterns whatever the requested dtype, so
// tf.oneHot(x, d, 1, 0, 'float32') yields 1.4e-45 instead of 1 on wasm (the cpu backend is right).
import type { KernelFn } from './wasm-util.js';

export const oneHot: KernelFn = ({ inputs, attrs, backend }) => {
  const indices = inputs.indices!;
  const depth = attrs.depth as number;
  const on = attrs.onValue as number;
  const off = attrs.offValue as number;
  const dtype = (attrs.dtype as 'float32' | 'int32' | undefined) ?? 'int32';
  const out = backend.makeOutput([...indices.shape, depth], dtype);
  const idx = backend.typedArrayFromHeap(indices);
  const o = backend.typedArrayFromHeap(out);
  o.fill(off);
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!;
    if (k >= 0 && k < depth) o[i * depth + k] = on;
  }
  return out;
};
