// Helpers the experiment files share: results.json written as the runs finish, the repro command of a row.
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '@facet/plot';
import { RunLedger } from '../run-ledger.js';
import type { ExperimentName, ExperimentOptions, ExperimentResult } from '../types.js';

export function experimentDir(opts: ExperimentOptions, name: ExperimentName): string {
  const dir = join(opts.outDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The experiment's ledger of finished runs (kept in the report folder, so it outlives the work folder). */
export function ledgerFor(opts: ExperimentOptions, name: ExperimentName): RunLedger {
  const dir = experimentDir({ ...opts, outDir: opts.ledgerDir ?? opts.outDir }, name);
  return RunLedger.inDir(dir, {
    plan: opts.plan && { experiment: name, runs: opts.plan },
    trainOnly: opts.trainOnly && new Set(opts.trainOnly),
  });
}

/** The experiment's final results.json. */
export function saveResult(opts: ExperimentOptions, result: ExperimentResult): void {
  writeResult(opts, { ...result, invocation: opts.invocation ?? result.invocation });
}

/** results.json while runs are still to come: marked partial, so an interrupted or still-running experiment's
 * rows are never reported as the finished experiment. */
export function saveProgress(opts: ExperimentOptions, result: ExperimentResult): void {
  writeResult(opts, { ...result, status: 'partial', invocation: opts.invocation ?? result.invocation });
}

function writeResult(opts: ExperimentOptions, result: ExperimentResult): void {
  writeFileAtomic(join(experimentDir(opts, result.name), 'results.json'), JSON.stringify(result, null, 1));
}

export function reproCommand(opts: ExperimentOptions, name: ExperimentName): string {
  const out = resolve(opts.outDir) !== resolve('docs/repro') ? ` --out ${shownPath(opts.outDir)}` : '';
  return `facet repro --only ${name}${opts.quick ? ' --quick' : ''} --seeds ${opts.seeds}${opts.data ? ` --data ${opts.data}` : ''}${out}`;
}

export function seedList(opts: ExperimentOptions): number[] {
  if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new Error(`--seeds must be an integer ≥ 1 (got ${opts.seeds})`);
  return Array.from({ length: opts.seeds }, (_, i) => 2048 + i);
}

/**
 * The training command of a row averaged over seeds, which is one run per seed: `--seed 2048` becomes
 * `--seed {2048,2049,2050}` (the shell's brace notation). A one-seed row keeps its seed.
 */
export function commandOverSeeds(command: string, seeds: readonly number[]): string {
  return seeds.length > 1 ? command.replace(/--seed \d+/, `--seed {${seeds.join(',')}}`) : command;
}

export const pct = (x: number) => 100 * x;

/** A path as the user would type it from the working directory (commands in the report stay portable). */
export function shownPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

/**
 * Paired comparison of two settings measured on the same items (here: identities inverted with and without a prior,
 * from the same start): the mean of dᵢ = aᵢ − bᵢ, its standard error sd(d)/√n (sample sd, n − 1), and how many dᵢ > 0.
 */
export function pairedDifference(a: readonly number[], b: readonly number[]): { mean: number; se: number; positive: number; n: number } {
  if (a.length !== b.length || a.length < 2) throw new Error(`pairedDifference: needs two equal-length lists of ≥ 2 values (got ${a.length} and ${b.length})`);
  const d = a.map((x, i) => x - b[i]!);
  const n = d.length;
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  return { mean, se: sd / Math.sqrt(n), positive: d.filter((x) => x > 0).length, n };
}

/**
 * How a measured difference (in the direction the paper predicts: positive = paper's claim holds) compares with
 * the noise (by default between seeds; `noiseOf` names another source, e.g. identities for a paired difference).
 * One seed gives no noise estimate, so its direction is reported but never called a contradiction.
 */
export function verdict(diff: number, noise: number, seeds: number, subject = 'the paper', noiseOf = 'seed'): string {
  if (!Number.isFinite(diff)) return 'not measurable';
  if (seeds < 2) return `${diff > 0 ? 'same direction as' : diff < 0 ? 'opposite direction to' : 'no difference from'} ${subject} (single seed: no noise estimate, not significant)`;
  if (diff > 2 * noise) return `agrees with ${subject}`;
  if (diff < -2 * noise) return `CONTRADICTS ${subject}`;
  return `within ${noiseOf} noise (no conclusion)`;
}
