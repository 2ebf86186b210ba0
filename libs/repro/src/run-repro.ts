// `facet repro`: run the selected experiments in order (each writes its results.json as it goes), then REPORT.md.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '@facet/engine';
import { contrastiveExperiment } from './experiments/contrastive.js';
import { marginsExperiment } from './experiments/margins.js';
import { partialFcExperiment } from './experiments/partial-fc.js';
import { inversionExperiment } from './experiments/inversion.js';
import { recognizabilityExperiment } from './experiments/recognizability.js';
import { subCenterExperiment } from './experiments/sub-center.js';
import { experimentTasks, runTasks } from './parallel.js';
import { writeReport } from './report.js';
import { RUN_LEDGER_FILE, type PlannedRun } from './run-ledger.js';
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
  /** Experiments in flight at once (one engine, one core each); > 1 needs `runTask`. Default 1. */
  jobs?: number;
  /** Runs `facet repro --only <task>` with the same options in a separate process (the CLI spawns itself). */
  runTask?: (only: ExperimentName[]) => Promise<void>;
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

export async function runRepro(opts: ReproOptions = {}): Promise<ReproSummary> {
  const { quick, seeds } = quickAndSeeds(opts);
  const only = opts.only ?? [...EXPERIMENT_NAMES];
  const outDir = resolve(opts.out ?? 'docs/repro');
  const workDir = resolve(opts.workDir ?? (quick ? 'runs/repro-quick' : 'runs/repro'));
  mkdirSync(outDir, { recursive: true });
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be an integer ≥ 1 (got ${jobs})`);
  const tasks = experimentTasks(only);
  if (jobs > 1 && tasks.length > 1) return runInParallel(opts, { outDir, quick, seeds, only, tasks, jobs });
  await initEngine({ backend: 'wasm' });
  const command = reproInvocation(opts, quick, seeds, opts.only && only);
  const eo: ExperimentOptions = { quick, seeds, data: opts.data, outDir, workDir, resume: opts.resume ?? true, onLog: opts.onLog, invocation: { command, quick } };
  const t0 = performance.now();
  const results: ExperimentResult[] = [];
  for (const name of only) {
    opts.onLog?.(`experiment ${name}`);
    const r = { ...(await EXPERIMENTS[name](eo)), invocation: eo.invocation };
    results.push(r);
    opts.onExperiment?.(name, r);
  }
  removeSvgs(outDir);
  const report = writeReport(outDir, { command, quick, machine: machineLine() });
  return { report, results, seconds: (performance.now() - t0) / 1000 };
}

export interface ReproPlan {
  /** Every run the ledger-backed experiments would measure, recorded or not. */
  runs: PlannedRun[];
  /** Experiments outside the ledger (their measurements need the trained models): their results.json status. */
  other: Array<{ experiment: ExperimentName; status: string }>;
}

/** Experiments whose runs go through the run ledger (see run-ledger.ts). */
export const LEDGER_EXPERIMENTS: readonly ExperimentName[] = ['margins', 'subcenter', 'partial-fc', 'contrastive'];

/**
 * `facet repro --plan`: what a resumed run would still train. The experiments run in plan mode against copies of
 * their ledgers in a temporary folder (no training, nothing written to the report folder).
 */
export async function planRepro(opts: ReproOptions = {}): Promise<ReproPlan> {
  const { quick, seeds } = quickAndSeeds(opts);
  const outDir = resolve(opts.out ?? 'docs/repro');
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
      mkdirSync(join(tmp, name), { recursive: true });
      const ledger = join(outDir, name, RUN_LEDGER_FILE);
      if (existsSync(ledger)) copyFileSync(ledger, join(tmp, name, RUN_LEDGER_FILE));
      await EXPERIMENTS[name]({ quick, seeds, data: opts.data, outDir: tmp, workDir: join(tmp, 'work'), resume: opts.resume ?? true, plan: runs });
    }
    return { runs, other };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const machineLine = () => `${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}), tfjs wasm backend`;

function reproInvocation(opts: ReproOptions, quick: boolean, seeds: number, only: ExperimentName[] | undefined): string {
  const out = opts.out && resolve(opts.out) !== resolve('docs/repro') ? ` --out ${opts.out}` : '';
  return `facet repro${quick ? ' --quick' : ''}${only ? ` --only ${only.join(',')}` : ''} --seeds ${seeds}${opts.data ? ` --data ${opts.data}` : ''}${out}`;
}

/** `--jobs N`: the tasks run as separate processes (via `runTask`); the report is written once all have ended. */
async function runInParallel(
  opts: ReproOptions,
  p: { outDir: string; quick: boolean; seeds: number; only: ExperimentName[]; tasks: ExperimentName[][]; jobs: number },
): Promise<ReproSummary> {
  if (!opts.runTask) throw new Error('--jobs > 1 runs experiments in separate processes: pass runTask (the CLI does), or use jobs: 1');
  const t0 = performance.now();
  opts.onLog?.(`${p.tasks.length} tasks, ${Math.min(p.jobs, p.tasks.length)} at a time: ${p.tasks.map((t) => t.join(' → ')).join(' | ')}`);
  const failures = await runTasks(p.tasks, p.jobs, opts.runTask);
  const results = p.only.flatMap((name) => {
    const path = join(p.outDir, name, 'results.json');
    return existsSync(path) ? [JSON.parse(readFileSync(path, 'utf8')) as ExperimentResult] : [];
  });
  for (const r of results) opts.onExperiment?.(r.name, r);
  const report = writeReport(p.outDir, { command: reproInvocation(opts, p.quick, p.seeds, opts.only && p.only), quick: p.quick, machine: machineLine() });
  if (failures.length) {
    const lines = failures.map((f) => `${f.task.join(',')}: ${f.error.message}`);
    throw new Error(`${failures.length} of ${p.tasks.length} repro tasks failed (the others finished; ${report} shows what ran; rerun to resume):\n${lines.join('\n')}`);
  }
  return { report, results, seconds: (performance.now() - t0) / 1000 };
}
