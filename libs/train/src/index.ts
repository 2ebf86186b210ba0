// (temporary surface while the libs train depends on are being written)
export { DEFAULT_CONFIG, QUICKSTART_CONFIG, CONFIG_KEYS, ConfigError, resolveConfig, mergeConfig, readConfigFile, effectiveLr, type TrainConfig } from './config.js';
export { polynomialWarmupLr } from './schedule.js';
export { sgd, adamw, clipByGlobalNorm, type BackboneOptimizer, type OptimizerState } from './optimizer.js';
export { writeCheckpoint, readCheckpoint, latestCheckpoint } from './checkpoint.js';
export { writeFileAtomic } from './atomic.js';
