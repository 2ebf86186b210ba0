// `facet repro`: run the selected experiments in order (each writes its results.json as it goes), then REPORT.md.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '@facet/engine';
import { contrastiveExperiment } from './experiments/contrastive.js';
import { marginsExperiment } from './experiments/margins.js';
import { partialFcExperiment } from './experiments/partial-fc.js';
import { inversionExperiment } from './experiments/inversion.js';
import { recognizabilityExperiment } from './experiments/recognizability.js';
import { subCenterExperiment } from './experiments/sub-center.js';
import { longestFirst, runTasks, type RunTask, type TaskFailure } from './parallel.js';
import { writeReport } from './report.js';
import { ledgerVersionNotes, RunLedger, type PlannedRun } from './run-ledger.js';
import { EXPERIMENT_NAMES, type ExperimentName, type ExperimentOptions, type ExperimentResult } from './types.js';

export interface ReproOptions {
  quick?: boolean;
  /** Subset of experiments (default all). */
  only?: ExperimentName[];
  seeds?: number;
  data?: string;
  /** Report folder; default docs/repro. */
  out?: string;
  /** Training runs; default runs/repro(-quick). */
  workDir?: string;
  /** Skip runs already finished (default true). */
  resume?: boolean;
  onLog?: (line: string) => void;
  onExperiment?: (name: ExperimentName, result: ExperimentResult) => void;
  /** Training runs in flight at once (one engine, one core each); > 1 needs `runTask`. Default 1. */
  jobs?: number;
  /** Trains one ledger run in a separate process with the same options (the CLI spawns `facet repro --only
   * <experiment> --train-run <key>`, i.e. trainReproRun). */
  runTask?: (run: RunTask) => Promise<void>;
}

export interface ReproSummary {
  report: string;
  results: ExperimentResult[];
  seconds: number;
}

export const EXPERIMENTS: Record<ExperimentName, (o: ExperimentOptions) => Promise<ExperimentResult>> = {
  margins: marginsExperiment,
  subcenter: subCenterExperiment,
  'partial-fc': partialFcExperiment,
  contrastive: contrastiveExperiment,
  inversion: inversionExperiment,
  recognizability: recognizabilityExperiment,
};

export function parseExperimentList(list: string): ExperimentName[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(EXPERIMENT_NAMES as readonly string[]).includes(n)) throw new Error(`--only: unknown experiment "${n}"; choose from ${EXPERIMENT_NAMES.join(', ')}`);
  }
  if (names.length === 0) throw new Error(`--only: name at least one experiment (${EXPERIMENT_NAMES.join(', ')})`);
  return names as ExperimentName[];
}

/** The report keeps PNGs only (the charts' SVG twins would bloat docs/). */
function removeSvgs(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) removeSvgs(p);
    else if (name.endsWith('.svg')) rmSync(p);
  }
}

/** Toy or full size, and seeds per setting (1 with --quick, else 3). */
function quickAndSeeds(opts: ReproOptions): { quick: boolean; seeds: number } {
  const quick = opts.quick ?? false;
  const seeds = opts.seeds ?? (quick ? 1 : 3);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be an integer ≥ 1 (got ${seeds})`);
  return { quick, seeds };
}

/** The report folder (default docs/repro) and the work folder of the training runs (default runs/repro(-quick)). */
function folders(opts: ReproOptions, quick: boolean): { outDir: string; workDir: string } {
  return { outDir: resolve(opts.out ?? 'docs/repro'), workDir: resolve(opts.workDir ?? (quick ? 'runs/repro-quick' : 'runs/repro')) };
}

export async function runRepro(opts: ReproOptions = {}): Promise<ReproSummary> {
  const { quick, seeds } = quickAndSeeds(opts);
  const only = opts.only ?? [...EXPERIMENT_NAMES];
  const { outDir, workDir } = folders(opts, quick);
  mkdirSync(outDir, { recursive: true });
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be an integer ≥ 1 (got ${jobs})`);
  const t0 = performance.now();
  const command = reproInvocation(opts, quick, seeds, opts.only && only);
  if (jobs > 1) {
    const failures = await trainInParallel(opts, jobs);
    if (failures.length) {
      const report = writeReport(outDir, { command, quick, machine: machineLine() });
      const lines = failures.map((f) => `${f.task.experiment}/${f.task.key}: ${f.error.message}`);
      throw new Error(`${failures.length} training run(s) failed (the others are recorded; ${report} shows the experiments as they were; rerun to resume):\n${lines.join('\n')}`);
    }
  }
  // every ledger run is recorded now (when --jobs trained them): this pass reads them back and measures the rest
  await initEngine({ backend: 'wasm' });
  const eo: ExperimentOptions = { quick, seeds, data: opts.data, outDir, workDir, resume: opts.resume ?? true, onLog: opts.onLog, invocation: { command, quick } };
  const results: ExperimentResult[] = [];
  for (const name of only) {
    opts.onLog?.(`experiment ${name}`);
    // runs the --jobs processes just trained (even with --restart) are read back, not trained again
    const resume = eo.resume || (jobs > 1 && LEDGER_EXPERIMENTS.includes(name));
    const r = { ...(await EXPERIMENTS[name]({ ...eo, resume })), invocation: eo.invocation };
    results.push(r);
    opts.onExperiment?.(name, r);
  }
  removeSvgs(outDir);
  const report = writeReport(outDir, { command, quick, machine: machineLine() });
  return { report, results, seconds: (performance.now() - t0) / 1000 };
}

/** `--jobs N`: the ledger runs still to train, N at a time, each in its own process (via `runTask`). */
async function trainInParallel(opts: ReproOptions, jobs: number): Promise<Array<TaskFailure<RunTask>>> {
  if (!opts.runTask) throw new Error('--jobs > 1 trains runs in separate processes: pass runTask (the CLI does), or use jobs: 1');
  const plan = await planRepro({ ...opts, resume: opts.resume ?? true });
  const todo = longestFirst(plan.runs.filter((r) => !r.recorded));
  opts.onLog?.(`${todo.length} runs to train, ${Math.min(jobs, todo.length)} at a time`);
  return runTasks(todo, jobs, opts.runTask);
}

/**
 * One process of `--jobs`: train the ledger run `key` of `experiment` and record it. The experiment runs with every
 * other unrecorded run left at zero and its tables, plots and results.json going to a scratch folder; only the
 * ledger in the report folder is written.
 */
export async function trainReproRun(experiment: ExperimentName, key: string, opts: Omit<ReproOptions, 'only' | 'jobs' | 'runTask'> = {}): Promise<void> {
  if (!LEDGER_EXPERIMENTS.includes(experiment)) throw new Error(`--train-run: ${experiment} keeps no run ledger; choose one of ${LEDGER_EXPERIMENTS.join(', ')}`);
  const { quick, seeds } = quickAndSeeds(opts);
  const { outDir, workDir } = folders(opts, quick);
  const scratch = mkdtempSync(join(tmpdir(), 'facet-repro-run-'));
  await initEngine({ backend: 'wasm' });
  try {
    await EXPERIMENTS[experiment]({ quick, seeds, data: opts.data, outDir: scratch, ledgerDir: outDir, workDir, resume: opts.resume ?? true, onLog: opts.onLog, trainOnly: [key] });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!RunLedger.inDir(join(outDir, experiment)).keys().includes(key)) {
    throw new Error(`--train-run ${key}: ${experiment} has no such run with --seeds ${seeds}${quick ? ' --quick' : ''} (facet repro --plan lists them)`);
  }
}

export interface ReproPlan {
  /** Every run the ledger-backed experiments would measure, recorded or not. */
  runs: PlannedRun[];
  /** Experiments outside the ledger (their measurements need the trained models): their results.json status. */
  other: Array<{ experiment: ExperimentName; status: string }>;
  /** Experiments whose recorded runs were measured by different code (see `ledgerVersionNotes`), one line each. */
  versionNotes: string[];
}

/** Experiments whose runs go through the run ledger (see run-ledger.ts). */
export const LEDGER_EXPERIMENTS: readonly ExperimentName[] = ['margins', 'subcenter', 'partial-fc', 'contrastive'];

/**
 * `facet repro --plan`: what a resumed run would still train. The experiments run in plan mode: they read the
 * ledgers in the report folder and write their tables to a temporary folder (no training, nothing written to outDir).
 */
export async function planRepro(opts: ReproOptions = {}): Promise<ReproPlan> {
  const { quick, seeds } = quickAndSeeds(opts);
  const { outDir } = folders(opts, quick);
  const tmp = mkdtempSync(join(tmpdir(), 'facet-repro-plan-'));
  await initEngine({ backend: 'wasm' });
  try {
    const runs: PlannedRun[] = [];
    const other: ReproPlan['other'] = [];
    for (const name of opts.only ?? EXPERIMENT_NAMES) {
      if (!LEDGER_EXPERIMENTS.includes(name)) {
        const path = join(outDir, name, 'results.json');
        other.push({ experiment: name, status: existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ExperimentResult).status : 'not run yet' });
        continue;
      }
      // the real ledgers are read, never written, in plan mode
      await EXPERIMENTS[name]({ quick, seeds, data: opts.data, outDir: tmp, ledgerDir: outDir, workDir: join(tmp, 'work'), resume: opts.resume ?? true, plan: runs });
    }
    return { runs, other, versionNotes: ledgerVersionNotes(runs) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const machineLine = () => `${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}), tfjs wasm backend`;

function reproInvocation(opts: ReproOptions, quick: boolean, seeds: number, only: ExperimentName[] | undefined): string {
  const out = opts.out && resolve(opts.out) !== resolve('docs/repro') ? ` --out ${opts.out}` : '';
  return `facet repro${quick ? ' --quick' : ''}${only ? ` --only ${only.join(',')}` : ''} --seeds ${seeds}${opts.data ? ` --data ${opts.data}` : ''}${out}`;
}
