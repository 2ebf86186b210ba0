// The 'native' backend from @facet/native (oneDNN through an N-API addon) as an engine candidate. Facet's fused
// training kernels (BatchNorm, PReLU gradient) are registered on it under the engine's names, so the backbones'
// layers find them exactly as on wasm.
import { NATIVE_BACKEND, registerNativeBackend, type AddonInfo } from '@facet/native';
import { tf } from './tf.js';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from './kernels/batch-norm.js';
import { PRELU_GRAD } from './kernels/prelu-grad.js';

export interface NativeEngineInfo {
  /** oneDNN version, the ISA it dispatches to, OpenMP threads, implementations chosen so far. */
  onednn: AddonInfo;
  /** Why this many threads (asked for, OMP_NUM_THREADS, or the cores not busy at start). */
  threadsWhy: string;
  /** Kernels running natively (oneDNN / the addon's loops). */
  nativeKernels: string[];
  /** Every other kernel: tfjs's cpu (JavaScript) kernels on the same memory. */
  fallbackKernels: string[];
}

let registration: NativeEngineInfo | undefined;

/** FACET_NATIVE_THREADS fixes the thread count (default: the cores not already busy when the engine starts). */
function threadsFromEnv(): number | undefined {
  const v = process.env.FACET_NATIVE_THREADS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FACET_NATIVE_THREADS="${v}" is not a positive integer; unset it to use all cores.`);
  return n;
}

/** Register and select the native backend; the one-line reason when it is not available. */
export async function tryNativeCpu(): Promise<{ ok: true; reason: string } | { ok: false; reason: string }> {
  const threads = threadsFromEnv();
  const r = registerNativeBackend(tf, {
    facetKernels: { batchNormTraining: BATCH_NORM_TRAINING, batchNormTrainingGrad: BATCH_NORM_TRAINING_GRAD, preluGrad: PRELU_GRAD },
    ...(threads ? { threads } : {}),
  });
  if (!r.ok) return { ok: false, reason: r.reason };
  registration = { onednn: r.info, threadsWhy: r.threadsWhy, nativeKernels: r.nativeKernels, fallbackKernels: r.fallbackKernels };
  if (!(await tf.setBackend(NATIVE_BACKEND))) return { ok: false, reason: "backend 'native' failed to initialize" };
  return { ok: true, reason: `@facet/native: oneDNN ${r.info.version} (${r.info.isa}), ${r.info.threads} threads: ${r.threadsWhy}` };
}

/** What the native backend runs natively and on tfjs's cpu kernels (after tryNativeCpu succeeded). */
export function nativeEngineInfo(): NativeEngineInfo | undefined {
  return registration;
}
