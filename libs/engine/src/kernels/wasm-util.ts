// Thin helpers for kernels that run on the wasm backend's own memory. Kernel functions receive TensorInfos
// (dataId + shape), not Tensors; intermediates made here must be freed with `free` and are never seen by the
// engine, so they cannot leak into tf.memory().
import { tf } from '../tf.js';

export type TensorInfo = tf.TensorInfo;
export type NamedInfoMap = Record<string, TensorInfo>;

/** The subset of the wasm backend's (untyped) API these kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): Float32Array | Int32Array | Uint8Array;
}

export type KernelFn = (args: { inputs: NamedInfoMap; attrs: Record<string, unknown>; backend: WasmBackend }) =>
  TensorInfo | TensorInfo[];

const originals = new Map<string, KernelFn>();

/** The wasm kernel as tfjs shipped it, captured before Facet replaces it. */
export function original(name: string): KernelFn {
  const fn = originals.get(name) ?? (tf.getKernel(name, 'wasm')?.kernelFunc as KernelFn | undefined);
  if (!fn) throw new Error(`wasm kernel ${name} is not registered`);
  return fn;
}

export function captureOriginal(name: string): void {
  const fn = tf.getKernel(name, 'wasm')?.kernelFunc as KernelFn | undefined;
  if (fn && !originals.has(name)) originals.set(name, fn);
}

export function run(backend: WasmBackend, name: string, inputs: NamedInfoMap, attrs: Record<string, unknown> = {}): TensorInfo {
  return original(name)({ inputs, attrs, backend }) as TensorInfo;
}

export function free(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const i of infos) backend.disposeData(i.dataId);
}

/** A reshaped view sharing the data (no copy, no refcount change): only for passing to other kernels. */
export function view(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function f32(backend: WasmBackend, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
