// `facet repro --jobs N`: one wasm engine computes on one core, so a 2-core machine finishes the full run in about
// half the time with two experiments in flight. Each task is a child `facet repro --only …` (its own engine); the
// experiments that share the ArcFace run of experiment 1 (margins → inversion → recognizability) form one task, in
// that order, so no two processes ever train the same run directory.
import type { ExperimentName } from './types.js';

/** Experiments that read (or train) `margins/arcface-s<seed>`; run in this order, in one process. */
export const SHARES_ARCFACE_RUN: readonly ExperimentName[] = ['margins', 'inversion', 'recognizability'];

/** Rough cost order of the full run (training runs × images per run), so the longest tasks start first. */
const COST_ORDER: readonly ExperimentName[] = ['partial-fc', 'subcenter', 'margins', 'contrastive', 'inversion', 'recognizability'];

/** The selected experiments as independent tasks, the most expensive first. */
export function experimentTasks(only: readonly ExperimentName[]): ExperimentName[][] {
  const chain = SHARES_ARCFACE_RUN.filter((n) => only.includes(n));
  const tasks: ExperimentName[][] = only.filter((n) => !SHARES_ARCFACE_RUN.includes(n)).map((n) => [n]);
  if (chain.length) tasks.push(chain);
  const cost = (t: ExperimentName[]) => Math.min(...t.map((n) => COST_ORDER.indexOf(n)));
  return tasks.sort((a, b) => cost(a) - cost(b));
}

export interface TaskFailure {
  task: ExperimentName[];
  error: Error;
}

/**
 * Run `tasks` with at most `jobs` in flight. A failed task does not stop the others (every run resumes, so their
 * work is kept); the failures are returned for the caller to report.
 */
export async function runTasks(tasks: ExperimentName[][], jobs: number, runTask: (task: ExperimentName[]) => Promise<void>): Promise<TaskFailure[]> {
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be an integer ≥ 1 (got ${jobs})`);
  const queue = [...tasks];
  const failures: TaskFailure[] = [];
  const lane = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      try {
        await runTask(task);
      } catch (e) {
        failures.push({ task, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, lane));
  return failures;
}
