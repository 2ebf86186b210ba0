// @facet/eval: embeddings with the flip test, insightface's 10-fold verification, ROC / AUC / EER / TAR@FAR,
// closed-set identification (rank-k, CMC), .npy I/O and evaluation plots.
export { isAsyncEmbeddingModel, type EmbeddingModel, type AsyncEmbeddingModel, type EmbeddingSource } from './model.js';
export { embed, embedImages, type EmbedOptions, type EmbedInput, type EmbeddingBatchResult } from './embed.js';
export { kFoldRanges, assignFolds, type FoldSource, type FoldAssignment } from './kfold.js';
export {
  insightfaceL2Thresholds,
  insightfaceCosineThresholds,
  defaultThresholds,
  thresholdAsCosine,
  type VerificationMetric,
} from './thresholds.js';
export {
  verificationAccuracy,
  type VerificationAccuracyOptions,
  type VerificationFold,
  type VerificationResult,
} from './verification-accuracy.js';
export {
  rocCurve,
  areaUnderRoc,
  equalErrorRate,
  tarAtFar,
  DEFAULT_FARS,
  type RocCurve,
  type EqualErrorRate,
  type TarAtFar,
  type TarAtFarOptions,
} from './roc.js';
export { verify, pairScores, type VerifyOptions, type VerificationReport, type PairScores } from './verify.js';
export {
  identification,
  type LabelledEmbeddings,
  type IdentificationOptions,
  type IdentificationResult,
} from './identification.js';
export { gallerySplit, type GallerySplit, type GallerySplitOptions } from './gallery-split.js';
export { l2NormalizeRows, gatherRows } from './rows.js';
export { readNpy, writeNpy, type NpyArray } from './npy.js';
export { parsePairsIndex, readPairsIndex, type PairsIndex } from './pairs-index.js';
export {
  writeEmbeddings,
  readEmbeddings,
  embeddingsMetaPath,
  type EmbeddingsMeta,
  type EmbeddingsFile,
} from './embeddings-file.js';
export { plotVerification, plotCmc, plotRocComparison, rocPlotPoints } from './plots.js';
export {
  evaluatePairs,
  embedDataset,
  evaluateIdentification,
  summarizeVerification,
  type PairImages,
  type LabelledImages,
  type EvaluateOptions,
  type PairsEvaluation,
  type IdentificationEvaluation,
  type VerificationSummary,
} from './evaluate.js';
