// @facet/native: a tfjs backend ('native') whose hot kernels run on oneDNN through an N-API addon; everything else
// runs on tfjs's cpu kernels over the same host memory. See README.md.
export { nativeStatus, nativeAddon, ENABLE_HINT, ADDON_PATH, type NativeStatus, type NativeAddon, type AddonInfo } from './addon.js';
export {
  registerNativeBackend,
  defaultThreads,
  NATIVE_BACKEND,
  NATIVE_TFJS_KERNELS,
  type NativeBackendOptions,
  type NativeRegistration,
  type FacetKernelNames,
} from './backend.js';
export { convGeometry } from './kernels/conv.js';
export { outputPool, BufferPool, poolCapBytes } from './pool.js';
export { SGD_UPDATE_KERNEL } from './kernels/optimizer.js';
export type { Tf } from './kernels/types.js';
