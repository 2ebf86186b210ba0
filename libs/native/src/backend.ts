// The 'native' tfjs backend: a subclass of tfjs-backend-cpu's MathBackendCPU (same host TypedArray storage), with
// every cpu kernel registered for it so everything runs from day one, and the hot kernels replaced by oneDNN ones
// that read and write that storage zero-copy. A replaced kernel hands a case it does not cover (NCHW, int dtype,
// unusual broadcast) back to the cpu kernel.
import { nativeAddon, nativeStatus, type AddonInfo } from './addon.js';
import { outputPool } from './pool.js';
import { forgetWeights } from './weights-cache.js';
import { defaultThreads } from './threads.js';

export { defaultThreads };
import * as conv from './kernels/conv.js';
import { binaryKernels, prelu } from './kernels/elementwise.js';
import { unaryKernels } from './kernels/unary.js';
import { reverse } from './kernels/layout.js';
import { mean, sum } from './kernels/reduce.js';
import * as facet from './kernels/facet.js';
import * as mm from './kernels/matmul.js';
import { SGD_UPDATE_KERNEL, sgdUpdate } from './kernels/optimizer.js';
import type { KernelArgs, MaybeNative, Tf } from './kernels/types.js';

export const NATIVE_BACKEND = 'native';

/** tfjs kernels replaced by native ones (their cpu kernels stay as the fallback). */
export const NATIVE_TFJS_KERNELS: Readonly<Record<string, MaybeNative>> = {
  Conv2D: conv.conv2D,
  Conv2DBackpropInput: conv.conv2DBackpropInput,
  Conv2DBackpropFilter: conv.conv2DBackpropFilter,
  DepthwiseConv2dNative: conv.depthwiseConv2dNative,
  DepthwiseConv2dNativeBackpropInput: conv.depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: conv.depthwiseBackpropFilter,
  FusedConv2D: conv.fusedConv2D,
  FusedDepthwiseConv2D: conv.fusedDepthwiseConv2D,
  BatchMatMul: mm.batchMatMul,
  _FusedMatMul: mm.fusedMatMul,
  ...binaryKernels,
  ...unaryKernels,
  Prelu: prelu,
  Reverse: reverse,
  Sum: sum,
  Mean: mean,
};

/** Names under which the caller (libs/engine) runs its own fused training kernels. */
export interface FacetKernelNames {
  batchNormTraining: string;
  batchNormTrainingGrad: string;
  preluGrad: string;
}

export interface NativeBackendOptions {
  /** Register Facet's fused BatchNorm / PReLU-gradient kernels natively under these names. */
  facetKernels?: FacetKernelNames;
  /** OpenMP threads (default: OMP_NUM_THREADS, else the cores not already busy; see defaultThreads). */
  threads?: number;
}

export type NativeRegistration =
  | { ok: true; backendName: string; info: AddonInfo; threadsWhy: string; nativeKernels: string[]; fallbackKernels: string[] }
  | { ok: false; reason: string };

let registered: Extract<NativeRegistration, { ok: true }> | undefined;

function withFallback(tf: Tf, name: string, fn: MaybeNative, original: ((args: KernelArgs) => unknown) | undefined) {
  return (args: KernelArgs) => {
    const out = fn(args, tf);
    if (out !== undefined) return out;
    if (!original) throw new Error(`@facet/native: ${name} got inputs it does not handle (float32, channels-last expected)`);
    return original(args);
  };
}

/**
 * Register the 'native' backend on the given tfjs instance (the one the caller's tfjs-core is: exactly one copy
 * may exist per process). Returns why not when the addon is unavailable; safe to call again.
 */
export function registerNativeBackend(tf: Tf, options: NativeBackendOptions = {}): NativeRegistration {
  const status = nativeStatus();
  if (!status.loaded) return { ok: false, reason: status.reason };
  const addon = nativeAddon();
  let threadsWhy = registered?.threadsWhy ?? 'OMP_NUM_THREADS';
  if (options.threads) {
    addon.setThreads(options.threads);
    threadsWhy = `${options.threads} as asked`;
  } else if (!registered && !process.env.OMP_NUM_THREADS) {
    const d = defaultThreads();
    addon.setThreads(d.threads);
    threadsWhy = d.why;
  }
  if (registered) return (registered = { ...registered, info: addon.info(), threadsWhy });
  const cpu = tf.findBackend('cpu');
  if (!cpu) return { ok: false, reason: "tfjs's cpu backend is not registered (import @tensorflow/tfjs first)" };
  type Storage = { data: { get(id: object): { values?: unknown } | undefined; has(id: object): boolean } };
  type CpuClass = new () => Storage & {
    write(values: unknown, shape: number[], dtype: string): object;
    move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
    readSync(dataId: object): unknown;
    disposeData(dataId: object, force?: boolean): boolean;
  };
  const CpuBackendClass = cpu.constructor as CpuClass;
  // The cpu backend's storage, told to the output pool (pool.ts): which arrays tensors hold, which left the backend.
  class NativeBackend extends CpuBackendClass {
    override write(values: unknown, shape: number[], dtype: string): object {
      outputPool.attach(values);
      return super.write(values, shape, dtype);
    }
    override move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void {
      outputPool.attach(values);
      forgetWeights(dataId);
      super.move(dataId, values, shape, dtype, refCount);
    }
    override readSync(dataId: object): unknown {
      outputPool.escape(this.data.get(dataId)?.values);
      return super.readSync(dataId);
    }
    override disposeData(dataId: object, force?: boolean): boolean {
      const values = this.data.get(dataId)?.values;
      const released = super.disposeData(dataId, force);
      if (!this.data.has(dataId)) {
        if (values !== undefined) outputPool.detach(values);
        forgetWeights(dataId);
      }
      return released;
    }
  }
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend() as never, 0);

  const cpuKernels = tf.getKernelsForBackend('cpu');
  for (const k of cpuKernels) {
    if (!tf.getKernel(k.kernelName, NATIVE_BACKEND)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  const replace = (name: string, fn: MaybeNative) => {
    const original = tf.getKernel(name, 'cpu')?.kernelFunc as ((args: KernelArgs) => unknown) | undefined;
    if (tf.getKernel(name, NATIVE_BACKEND)) tf.unregisterKernel(name, NATIVE_BACKEND);
    tf.registerKernel({ kernelName: name, backendName: NATIVE_BACKEND, kernelFunc: withFallback(tf, name, fn, original) as never });
  };
  const nativeKernels: string[] = [];
  for (const [name, fn] of Object.entries(NATIVE_TFJS_KERNELS)) {
    replace(name, fn);
    nativeKernels.push(name);
  }
  const names = options.facetKernels;
  if (names) {
    for (const [name, fn] of [
      [names.batchNormTraining, facet.batchNormTraining],
      [names.batchNormTrainingGrad, facet.batchNormTrainingGrad],
      [names.preluGrad, facet.preluGrad],
    ] as const) {
      replace(name, fn);
      nativeKernels.push(name);
    }
  }
  // Facet's fused optimizer update: no cpu kernel behind it (its callers check that the backend has it)
  replace(SGD_UPDATE_KERNEL, sgdUpdate);
  nativeKernels.push(SGD_UPDATE_KERNEL);
  const fallbackKernels = cpuKernels.map((k) => k.kernelName).filter((n) => !nativeKernels.includes(n)).sort();
  registered = { ok: true, backendName: NATIVE_BACKEND, info: addon.info(), threadsWhy, nativeKernels, fallbackKernels };
  return registered;
}
