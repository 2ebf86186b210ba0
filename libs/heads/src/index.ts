// @facet/heads: margin-based softmax heads (ArcFace, CosFace, SphereFace, combined, sub-center) and the plain
// softmax baseline, plus sub-center data cleaning.
export {
  MARGIN_PRESETS,
  DEFAULT_MARGIN_SCALE,
  COS_CLIP_EPS,
  validateMarginOptions,
  type MarginOptions,
  type MarginRule,
  type MarginGradient,
  type MarginPresetName,
  type ResolvedMarginOptions,
} from './margin-options.js';
export { marginTarget, type MarginTargetValue } from './margin-target.js';
export { classCosines, NORMALIZE_EPS } from './class-cosines.js';
export { marginLogits, marginTargetTensor, meanSoftmaxCrossEntropy } from './margin-logits.js';
export { marginLoss } from './margin-loss.js';
export { labelMask } from './label-mask.js';
export { softmaxLoss, type SoftmaxLossOptions } from './softmax-loss.js';
export { marginAccuracy } from './margin-accuracy.js';
export {
  cleanBySubCenters,
  writeCleanList,
  readCleanList,
  type SubCenterCleanOptions,
  type SubCenterCleanResult,
  type SubCenterCleanClassReport,
} from './sub-center-clean.js';
