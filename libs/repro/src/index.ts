// @facet/repro: experiments that reproduce the papers' claims at CPU scale, and the report they feed.
export { runRepro, planRepro, trainReproRun, parseExperimentList, EXPERIMENTS, LEDGER_EXPERIMENTS, type ReproOptions, type ReproSummary, type ReproPlan } from './run-repro.js';
export { runTasks, longestFirst, type RunTask, type TaskFailure } from './parallel.js';
export { withRunLock, RUN_LOCK_FILE } from './run-lock.js';
export { RunLedger, runFingerprint, ledgerVersionNotes, RUN_LEDGER_FILE, type LedgerEntry, type LedgerMode, type PlannedRun } from './run-ledger.js';
export { NUMERICS_VERSION, currentCodeVersion, codeVersionAt, readGitCommit, shortCommit, type CodeVersion } from './code-version.js';
export { writeReport, renderTable, renderExperiment, formatNumber, type ReportContext } from './report.js';
export {
  EXPERIMENT_NAMES,
  type ExperimentName,
  type ExperimentOptions,
  type ExperimentResult,
  type ExperimentData,
  type ResultRow,
  type ResultTable,
} from './types.js';
export { QUICK_SIZES, FULL_SIZES, sizesFor, type ReproSizes } from './sizes.js';
export { DerivedFaceDataset, indicesByClass, type DerivedItem } from './derived-dataset.js';
export { withLabelNoise, type LabelNoiseKind, type LabelNoiseOptions, type NoisyDataset } from './label-noise.js';
export { longTailed, longTailCounts, type LongTailOptions } from './long-tail.js';
export { withIdentityConflict, type ConflictDataset } from './identity-conflict.js';
export { experimentData, splitByIdentity, pairsFrom, UNSEEN_IDENTITY_OFFSET } from './experiment-data.js';
export { pearson, spearman, ranks } from './correlation.js';
export { cleaningScores, CLEAN_THRESHOLD_DEGREES } from './experiments/sub-center.js';
export { marginsExperiment, MARGIN_HEADS } from './experiments/margins.js';
export { subCenterExperiment } from './experiments/sub-center.js';
export { partialFcExperiment, PFC_RATES } from './experiments/partial-fc.js';
export { contrastiveExperiment, AUGMENT_STRENGTHS } from './experiments/contrastive.js';
export { trainAndMeasure, verifyModel, baseConfig, trainCommand, aggregate, type RunMeasure } from './training-run.js';
export { inversionExperiment } from './experiments/inversion.js';
export { recognizabilityExperiment, LOW_RESOLUTION } from './experiments/recognizability.js';
