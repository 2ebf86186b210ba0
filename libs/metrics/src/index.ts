// @facet/metrics: contrastive-theory metrics on embeddings (Huang, Yi, Zhao, ICLR 2023; Wang & Isola 2020) and
// the self-supervised two-view losses they analyse. Metrics run on host matrices in float64, tile by tile.
export {
  type EmbeddingMatrix,
  type EmbeddingInput,
  type LabelInput,
  toEmbeddingMatrix,
  normalizeRows,
} from './embedding-matrix.js';
export { forEachGramBlock, type GramBlock, type GramBlockOptions } from './blocked-gram.js';
export { alignment, viewDistances, rEpsilon, type AlignmentOptions, type REpsilonOptions } from './alignment.js';
export { uniformity, type UniformityOptions } from './uniformity.js';
export { classCenters, type ClassCenters, type ViewsInput } from './class-centers.js';
export {
  centerDivergence,
  divergenceOfCenters,
  type CenterDivergence,
  type CenterDivergenceOptions,
  type Histogram,
} from './center-divergence.js';
export {
  concentration,
  concentrationFromViews,
  DEFAULT_DELTAS,
  type Concentration,
  type ConcentrationOptions,
  type ClassConcentration,
} from './concentration.js';
export { boundTerms, type BoundInputs, type BoundTerms } from './bound-terms.js';
export { nearestCenterAccuracy, type LabeledEmbeddings, type NearestCenterAccuracy } from './nearest-center.js';
export { measureEmbeddings, type MeasureOptions, type MeasureReport, type ClassAlignment } from './measure-embeddings.js';
export { headlineMetrics, compareMeasurements, type HeadlineMetric, type ComparisonRow } from './report-summary.js';
export { measurementCharts, type MeasurementCharts, type MeasurementChartSpec } from './measurement-charts.js';
export {
  collectTwoViewEmbeddings,
  type TwoViewBatch,
  type TwoViewEmbeddings,
  type CollectOptions,
} from './two-view-embeddings.js';
export { readNpyMatrix, writeNpyMatrix, decodeNpyMatrix, encodeNpyMatrix } from './io/npy.js';
export { readLabelFile, parseLabelJson, type LabelFile } from './io/label-file.js';
export { ntXent, type NtXentOptions } from './losses/nt-xent.js';
export { infoNCE, type InfoNceOptions } from './losses/info-nce.js';
export { barlowTwinsLoss, type BarlowTwinsOptions, type BatchStandardization } from './losses/barlow-twins.js';
export {
  selfSupervisedObjective,
  SELF_SUPERVISED_OBJECTIVES,
  type SelfSupervisedObjectiveName,
  type SelfSupervisedObjectiveOptions,
  type TwoViewLoss,
} from './losses/self-supervised-objective.js';
