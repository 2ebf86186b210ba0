export { train, type StepReport, type TrainEvent, type TrainRunOptions, type TrainSummary } from './trainer.js';
export {
  DEFAULT_CONFIG,
  QUICKSTART_CONFIG,
  CONFIG_KEYS,
  CONFIG_SWITCHES,
  describeConfigFields,
  configFieldsMarkdown,
  type ConfigFieldDescription,
  ConfigError,
  resolveConfig,
  mergeConfig,
  readConfigFile,
  effectiveLr,
  type TrainConfig,
  type HeadName,
  type ObjectiveName,
  type OptimizerName,
} from './config.js';
export { polynomialWarmupLr } from './schedule.js';
export { sgd, adamw, clipByGlobalNorm, type BackboneOptimizer, type OptimizerState } from './optimizer.js';
export { writeCheckpoint, readCheckpoint, latestCheckpoint } from './checkpoint.js';
export { plotRun } from './plots.js';
export { estimateTrainingMemory, engineMemoryBudget, WASM_HEAP_BUDGET, type MemoryEstimate } from './memory.js';
export { rawPixelAccuracy, validateOn, toModelInput, type ValidationResult } from './validation.js';
export { cleanRun, type CleanRunOptions, type CleanRunReport } from './clean.js';
export { recognizabilityAddition, type RecognizabilityAddition } from './recognizability.js';
export {
  trainWithWorkers,
  ReplicaGroup,
  splitBatch,
  type ParallelStepReport,
  type ReplicaGroupOptions,
  type ReplicaStepResult,
  type ObjectiveLoss,
  type ReplicaState,
  type ReplicaOptimizerSpec,
  type StepPhases,
  type Shard,
} from './parallel/index.js';
