// The slice of tfjs these kernels use, typed structurally so @facet/native depends on no tfjs package at run time:
// the caller passes its own tfjs instance (there must be exactly one copy of tfjs-core in a process).
import type * as tfc from '@tensorflow/tfjs-core';

export type Tf = Pick<
  typeof tfc,
  'getKernelsForBackend' | 'getKernel' | 'registerKernel' | 'unregisterKernel' | 'registerBackend' | 'findBackend' | 'backend_util' | 'util'
>;

export type TensorInfo = tfc.TensorInfo;

/** tfjs-backend-cpu's MathBackendCPU as far as the native kernels need it: host TypedArrays per dataId. */
export interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tfc.DataType, values?: Float32Array | Int32Array): TensorInfo;
}

export type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; attrs: Record<string, unknown>; backend: CpuBackend };
export type NativeKernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** A native kernel returns `undefined` when it does not handle a case (another layout, dtype, shape): the cpu
 * backend's own kernel then runs. */
export type MaybeNative = (args: KernelArgs, tf: Tf) => TensorInfo | TensorInfo[] | undefined;

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The host storage of a float32 tensor (zero copy), or undefined when it is not a plain Float32Array. */
export function f32(backend: CpuBackend, t: TensorInfo | undefined): Float32Array | undefined {
  if (!t || t.dtype !== 'float32') return undefined;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : undefined;
}

export function output(backend: CpuBackend, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}
