// `facet repro --jobs N`: one wasm engine computes on one core, so a 2-core machine finishes the full run in about
// half the time with two training runs in flight. The unit of work is one run of the ledger (every ledger entry is
// self-contained: sub-center's K=3 + cleaning + retrain is one entry), trained by a child `facet repro --only <exp>
// --train-run <key>` with its own engine; the parent then writes the results and the report from the ledgers.

/** One ledger run still to train, as `facet repro --plan` lists it. */
export interface RunTask {
  experiment: string;
  key: string;
  /** Images its training passes over: the longest runs start first, so the lanes end together. */
  images: number;
}

export interface TaskFailure<T> {
  task: T;
  error: Error;
}

/**
 * Run `tasks` in order with at most `jobs` in flight. A failed task does not stop the others (every run resumes, so
 * their work is kept); the failures are returned for the caller to report.
 */
export async function runTasks<T>(tasks: readonly T[], jobs: number, runTask: (task: T) => Promise<void>): Promise<Array<TaskFailure<T>>> {
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be an integer ≥ 1 (got ${jobs})`);
  const queue = [...tasks];
  const failures: Array<TaskFailure<T>> = [];
  const lane = async () => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
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

/** The runs in the order they are handed out: longest first (ties in plan order). */
export function longestFirst(runs: readonly RunTask[]): RunTask[] {
  return runs.map((r, i) => ({ r, i })).sort((a, b) => b.r.images - a.r.images || a.i - b.i).map(({ r }) => r);
}
