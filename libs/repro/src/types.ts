// Shared shapes of the reproduction experiments.
import type { FaceDataset, VerificationSet } from '@facet/data';
import type { PlannedRun } from './run-ledger.js';

export const EXPERIMENT_NAMES = ['margins', 'subcenter', 'partial-fc', 'contrastive', 'inversion', 'recognizability'] as const;
export type ExperimentName = (typeof EXPERIMENT_NAMES)[number];

export interface ExperimentOptions {
  /** Toy sizes (the CI smoke check) instead of the full sizes. */
  quick: boolean;
  /** Seeds per setting (experiments with small differences repeat each run). */
  seeds: number;
  /** An image folder / .rec to train on instead of the built-in synthetic faces. */
  data?: string;
  /** Report folder (docs/repro): results.json and plots per experiment. */
  outDir: string;
  /** Training runs (checkpoints, models) go here, outside the docs. */
  workDir: string;
  /** Skip runs whose result file already exists. */
  resume: boolean;
  onLog?: (line: string) => void;
  /** `facet repro --plan`: list the runs (recorded or not) instead of training; nothing is written to outDir. */
  plan?: PlannedRun[];
  /** Train only these ledger runs (one process of `facet repro --jobs`); others are read back or left at zero. Use
   * with a scratch outDir and the real `ledgerDir`: the experiment's tables are not meaningful. */
  trainOnly?: readonly string[];
  /** Folder of the experiments' run ledgers (`<ledgerDir>/<experiment>/runs.json`); default outDir. */
  ledgerDir?: string;
  /** Stamped on every results.json written (the `facet repro` command and whether it was quick). */
  invocation?: { command: string; quick: boolean };
}

/** One row of a results table: a setting (possibly averaged over seeds) and its measured numbers. */
export interface ResultRow {
  setting: string;
  /** Numbers by column name; NaN-free (a missing value is absent). */
  values: Record<string, number>;
  /** ± one standard deviation over seeds, same keys. */
  std?: Record<string, number>;
  seeds?: number;
  /** The exact command that reproduces the row. */
  command: string;
}

export interface ResultTable {
  title: string;
  columns: string[];
  rows: ResultRow[];
  note?: string;
}

export interface ExperimentResult {
  name: ExperimentName;
  title: string;
  claim: string;
  /** 'partial': some rows are pending (not measured). */
  status: 'done' | 'partial' | 'pending' | 'failed';
  tables: ResultTable[];
  /** PNG files relative to outDir. */
  plots: string[];
  /** What we found, compared with the paper (written from the numbers, by rule, never by hand). */
  findings: string[];
  seconds: number;
  sizes: Record<string, unknown>;
  /** The `facet repro` invocation that wrote this result (a report can gather experiments run separately). */
  invocation?: { command: string; quick: boolean };
}

/** Training data and held-out evaluation data for one experiment. */
export interface ExperimentData {
  train: FaceDataset;
  /** Identities that never appear in `train` (open-set noise, held-out evaluation). */
  unseen: FaceDataset;
  verification: VerificationSet;
  /** How to name the data in a `facet train` command. */
  spec: string;
}
