// @facet/inversion: BN-prior face inversion (ArcFace TPAMI §3.3/§4.5, DeepInversion): optimise images so that a
// trained recognition model maps them to a target identity, using only the model's gradients and the statistics
// stored in its BatchNorm layers.
export {
  bnStatisticLoss,
  bnLayerStatisticDistance,
  forwardWithBnStatistics,
  resolveBnStatisticOptions,
  DEFAULT_BN_STATISTIC_OPTIONS,
  BN1D_MIN_BATCH,
  type BnStatisticForm,
  type BnStatisticOptions,
  type ResolvedBnStatisticOptions,
  type BnStatisticForward,
} from './bn-statistic-loss.js';
export { totalVariation, imageL2Norm, type TotalVariationNorm } from './total-variation.js';
export { rollImages, flipImages } from './jitter.js';
export { inversionLearningRate, bnWeightAt } from './schedule.js';
export { sampleRandomIdentities, randomIdentityWeights, mixReference, referenceRows } from './random-identities.js';
export { ImageAdam, type AdamOptions } from './image-adam.js';
export { openSetIdentityLoss, closeSetIdentityLoss, rowCosines, classTargetCosines } from './identity-loss.js';
export { resolveTargets, type InversionTarget, type ResolvedTargets } from './targets.js';
export {
  resolveInversionOptions,
  defaultSnapshotSteps,
  effectiveIdentityWeight,
  type InversionRecipe,
  type InversionOptions,
  type ResolvedInversionOptions,
  type OpenSetLoss,
} from './options.js';
export {
  invert,
  disposeInversion,
  convergedTarget,
  type InvertOptions,
  type VerifierSpec,
  type InversionProgress,
  type InversionImageReport,
  type InversionSnapshot,
  type InversionSummary,
  type InversionResult,
} from './invert.js';
export { loadClassCenters, classCenterShape, type TrainedClassCenters } from './class-centers.js';
export { tensorToRgbImages, encodePng, decodePng, writeImagePngs, contactSheet, type RgbImage, type ContactSheetOptions } from './png.js';
export { writeInversionOutputs, type InversionOutputOptions, type InversionFiles } from './outputs.js';
export { locateModel, type ModelLocation } from './model-path.js';
