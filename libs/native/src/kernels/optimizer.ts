// FacetSgdUpdate: torch.optim.SGD's update of one variable as one native pass (addon/optimizer.cc) instead of five
// tfjs kernels. Inputs w, g and (with momentum) buf, all float32 of one shape; attrs lr, momentum, weightDecay.
// Outputs [w', buf'] (or [w'] without buf): new tensors, so the caller assigns them like the op-by-op update's.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { f32, output, type KernelArgs, type MaybeNative } from './types.js';

/** The kernel's name: @facet/train's SGD runs it where the current backend registers it (native). */
export const SGD_UPDATE_KERNEL = 'FacetSgdUpdate';

export const sgdUpdate: MaybeNative = ({ inputs, attrs, backend }: KernelArgs) => {
  const { w, g, buf } = inputs;
  const wv = f32(backend, w);
  const gv = f32(backend, g);
  const bv = buf ? f32(backend, buf) : null;
  if (!w || !wv || !gv || bv === undefined) return undefined;
  if (gv.length !== wv.length || (bv && bv.length !== wv.length)) {
    throw new Error(`${SGD_UPDATE_KERNEL}: w [${w.shape}], g and buf must have the same size`);
  }
  const wOut = outputPool.take(wv.length);
  const bufOut = bv ? outputPool.take(wv.length) : null;
  nativeAddon().sgdUpdate(wv, gv, bv, wOut, bufOut, attrs.lr as number, (attrs.momentum as number) ?? 0, (attrs.weightDecay as number) ?? 0);
  const out = [output(backend, [...w.shape], wOut)];
  if (bufOut) out.push(output(backend, [...w.shape], bufOut));
  return out;
};
