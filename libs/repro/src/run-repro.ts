// `facet repro`: run the selected experiments in order (each writes its results.json as it goes), then REPORT.md.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { initEngine } from '@facet/engine';
import { contrastiveExperiment } from './experiments/contrastive.js';
import { marginsExperiment } from './experiments/margins.js';
import { partialFcExperiment } from './experiments/partial-fc.js';
import { inversionExperiment } from './experiments/inversion.js';
import { recognizabilityExperiment } from './experiments/recognizability.js';
import { subCenterExperiment } from './experiments/sub-center.js';
import { writeReport } from './report.js';
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

export async function runRepro(opts: ReproOptions = {}): Promise<ReproSummary> {
  const quick = opts.quick ?? false;
  const seeds = opts.seeds ?? (quick ? 1 : 3);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be an integer ≥ 1 (got ${seeds})`);
  const only = opts.only ?? [...EXPERIMENT_NAMES];
  const outDir = resolve(opts.out ?? 'docs/repro');
  const workDir = resolve(opts.workDir ?? (quick ? 'runs/repro-quick' : 'runs/repro'));
  mkdirSync(outDir, { recursive: true });
  await initEngine({ backend: 'wasm' });
  const eo: ExperimentOptions = { quick, seeds, data: opts.data, outDir, workDir, resume: opts.resume ?? true, onLog: opts.onLog };
  const t0 = performance.now();
  const results: ExperimentResult[] = [];
  for (const name of only) {
    opts.onLog?.(`experiment ${name}`);
    const r = await EXPERIMENTS[name](eo);
    results.push(r);
    opts.onExperiment?.(name, r);
  }
  removeSvgs(outDir);
  const command = `facet repro${quick ? ' --quick' : ''}${opts.only ? ` --only ${only.join(',')}` : ''} --seeds ${seeds}${opts.data ? ` --data ${opts.data}` : ''}`;
  const report = writeReport(outDir, { command, quick, machine: `${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}), tfjs wasm backend` });
  return { report, results, seconds: (performance.now() - t0) / 1000 };
}
