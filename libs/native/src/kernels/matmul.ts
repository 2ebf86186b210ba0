// BatchMatMul and _FusedMatMul on oneDNN's matmul. Batch axes must be equal, or one side's batch must be 1
// (broadcast); other broadcasts fall back to the cpu kernel.
import { nativeAddon } from '../addon.js';
import { outputPool } from '../pool.js';
import { applyEpilogue, fusedEpilogue } from './activation.js';
import { f32, output, size, type KernelArgs, type MaybeNative, type Tf } from './types.js';

function matmul({ inputs, attrs, backend }: KernelArgs, tf: Tf, fused: boolean) {
  const { a, b } = inputs;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!a || !b || !av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const tA = Boolean(attrs.transposeA);
  const tB = Boolean(attrs.transposeB);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const K = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const K2 = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (K !== K2) return undefined; // the cpu kernel throws tfjs's own message
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const Ba = size(batchA);
  const Bb = size(batchB);
  const sameBatch = batchA.length === batchB.length && batchA.every((v, i) => v === batchB[i]);
  if (!sameBatch && Ba !== 1 && Bb !== 1) return undefined;
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
  const outShape = [...outBatch, M, N];
  const epilogue = fused ? fusedEpilogue(backend, N, inputs, attrs) : undefined;
  if (fused && !epilogue) return undefined;
  const c = outputPool.take(size(outShape), K === 0);
  const addon = nativeAddon();
  if (c.length > 0 && K > 0) addon.matmul(av, bv, c, [Ba, Bb, M, K, N, tA ? 1 : 0, tB ? 1 : 0]);
  if (epilogue) applyEpilogue(addon, c, N, epilogue);
  return output(backend, outShape, c);
}

export const batchMatMul: MaybeNative = (args, tf) => matmul(args, tf, false);
export const fusedMatMul: MaybeNative = (args, tf) => matmul(args, tf, true);
