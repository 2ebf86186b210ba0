// @facet/quality: face image quality — the unrecognizable-identity (UI) centre, the recognizability index (RER,
// CVPR 2023) with its training additions (RI regression head, index-diversion loss, perceptibility attention),
// baseline measures (embedding norm, ERS, SER-FIQ) and error-versus-reject curves.
export { uiCenter, checkUiCenter } from './ui-center.js';
export {
  recognizabilityIndex,
  classPrototypes,
  uiCriterion,
  classCriterion,
  resolveIndexOptions,
  RECOGNIZABILITY_INDEX_DEFAULTS,
  type RecognizabilityIndex,
  type RecognizabilityIndexOptions,
} from './recognizability-index.js';
export {
  unrecognizableImage,
  unrecognizableImages,
  unrecognizableBatch,
  UNRECOGNIZABLE_KINDS,
  UNRECOGNIZABLE_DEFAULTS,
  type UnrecognizableKind,
  type UnrecognizableOptions,
} from './unrecognizable-images.js';
export { embeddingNorms, embeddingRecognizability } from './baseline-measures.js';
export { serFiqScores } from './ser-fiq-score.js';
export {
  stochasticEmbeddings,
  resolveStochasticOptions,
  STOCHASTIC_EMBEDDING_DEFAULTS,
  type StochasticEmbeddingOptions,
  type StochasticSite,
} from './stochastic-embeddings.js';
export {
  errorVersusReject,
  pairQuality,
  thresholdAtFmr,
  areaUnderErc,
  DEFAULT_ERC_FMRS,
  DEFAULT_REJECT_FRACTIONS,
  type ErrorVersusReject,
  type ErrorVersusRejectOptions,
  type ErcCurve,
  type ErcPoint,
  type ErcThresholdMode,
} from './error-versus-reject.js';
export { errorVersusRejectCharts, plotErrorVersusReject } from './erc-plot.js';
export { captureFeatures, featureMapShape, type FeatureCapture } from './feature-capture.js';
export { smoothL1Loss } from './smooth-l1.js';
export {
  RecognizabilityHead,
  predictRecognizability,
  type RecognizabilityHeadOptions,
  type RecognizabilityHeadWeights,
} from './recognizability-head.js';
export { PerceptibilityAttention, type PerceptibilityAttentionOptions } from './perceptibility-attention.js';
export {
  RecognizabilityTraining,
  RECOGNIZABILITY_TRAINING_DEFAULTS,
  type RecognizabilityTrainingOptions,
  type RecognizabilityLossInputs,
  type RecognizabilityLossParts,
  type RecognizabilityState,
  type DiversionTarget,
} from './recognizability-training.js';
export {
  saveQualityModel,
  readQualityModel,
  QUALITY_MODEL_FILE,
  QUALITY_MODEL_FORMAT,
  QUALITY_MODEL_VERSION,
  type QualityModel,
} from './quality-model.js';
export {
  imageQualities,
  embedForQuality,
  buildUiCenter,
  QUALITY_MEASURES,
  type QualityMeasureName,
  type ImageQualities,
  type ImageQualityOptions,
} from './image-qualities.js';
export { pairsErrorVersusReject, type QualityPairs, type PairsQualityResult } from './pairs-quality.js';
export { readImageFolder, degradedDatasetImages } from './image-files.js';
export { mixLowResolution, type LowResolutionOptions } from './low-resolution-pairs.js';
export { separationAuc } from './separation.js';
export { fitRecognizabilityHead, calibrateRecognizability, type HeadFitOptions, type CalibrateOptions } from './calibrate-head.js';
