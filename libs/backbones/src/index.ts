// @facet/backbones: insightface's face-recognition backbones (IResNet, MobileFaceNet, ViT) on raw tf ops.
export type {
  ApplyOptions,
  Backbone,
  BackboneInfo,
  BackboneOptions,
  BatchNormLayer,
  BatchStatsAllReduce,
  ResolvedBackboneOptions,
} from './types.js';
export { createBackbone, describeBackbone, listBackbones } from './backbone.js';
export { BACKBONE_NAMES, type BackboneFamily } from './registry.js';
export {
  saveBackbone,
  loadBackbone,
  loadBackboneWeights,
  readBackboneManifest,
  BACKBONE_NORMALIZATION,
  BACKBONE_CHECKPOINT_FORMAT,
  BACKBONE_CHECKPOINT_VERSION,
  type BackboneManifest,
} from './checkpoint.js';
export { serializeWeights, deserializeWeights, type SerializedWeights, type TensorIndex, type TensorIndexEntry } from './weights-io.js';
export { FACET_VERSION } from './version.js';
