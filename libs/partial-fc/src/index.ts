// @facet/partial-fc: Partial FC with class centres in host memory, class sampling, model-parallel shards and the
// host-side centre optimizers.
export { PartialFC, type PartialFCOptions, type PartialFCState } from './partial-fc.js';
export {
  ClassCenterStore,
  DEFAULT_MAX_SHARD_BYTES,
  type ClassCenterStoreOptions,
  type CenterStoreLayout,
  type CenterStorage,
} from './class-center-store.js';
export { DiskClassCenterStore, type DiskCenterStoreOptions } from './disk-center-store.js';
export { sampleClasses, sampleBudget, type SampledClasses } from './sample-classes.js';
export { shardRange as classShardRange } from './shard-range.js';
export {
  applyCenterUpdate,
  resolveCenterOptimizer,
  optimizerSlots,
  DEFAULT_CENTER_OPTIMIZER,
  type CenterOptimizerOptions,
  type ResolvedCenterOptimizer,
} from './center-optimizer.js';
export { fixedInputHeadStep, type FixedInputHeadStep } from './head-step.js';
export { estimateStepEngineBytes, maxSampledClasses, WASM_HEAP_BYTES, DEFAULT_BLOCK_BYTES } from './memory-estimate.js';
export { toHalf as encodeFloat16, fromHalf as decodeFloat16 } from './fp16.js';
