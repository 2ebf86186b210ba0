import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { longestFirst, runRepro, RunLedger, runTasks, RUN_LOCK_FILE, trainReproRun, withRunLock, type ExperimentName } from '../src/index.js';

describe('repro --jobs scheduling', () => {
  it('never has more than `jobs` tasks in flight, runs every task once, and reports failures without stopping the rest', async () => {
    const tasks = ['partial-fc/a', 'subcenter/b', 'margins/c', 'contrastive/d'];
    let inFlight = 0;
    let most = 0;
    const ran: string[] = [];
    const failures = await runTasks(tasks, 2, async (task) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5 + 3 * task.length));
      inFlight--;
      ran.push(task);
      if (task.startsWith('subcenter')) throw new Error('boom');
    });
    expect(most).toBe(2);
    expect(ran.sort()).toEqual([...tasks].sort());
    expect(failures.map((f) => [f.task, f.error.message])).toEqual([['subcenter/b', 'boom']]);
    await expect(runTasks(tasks, 0, async () => {})).rejects.toThrow(/--jobs must be an integer ≥ 1/);
  });

  it('hands out the longest runs first, ties in plan order', () => {
    const runs = [
      { experiment: 'margins', key: 'a', images: 10 },
      { experiment: 'contrastive', key: 'b', images: 20 },
      { experiment: 'margins', key: 'c', images: 10 },
    ];
    expect(longestFirst(runs).map((r) => r.key)).toEqual(['b', 'a', 'c']);
  });

  it('trains each unrecorded ledger run once through runTask, then reports from the ledger without retraining', async () => {
    const out = mkdtempSync(join(tmpdir(), 'repro-jobs-'));
    const workDir = mkdtempSync(join(tmpdir(), 'repro-jobs-work-'));
    const common = { quick: true, seeds: 1, out, workDir };
    const childLog: string[] = [];
    const parentLog: string[] = [];
    const requested: string[] = [];
    // the CLI spawns `facet repro --train-run` per task; here the tasks run in this process, one at a time (one
    // engine), while the scheduler still keeps two in flight
    let chain = Promise.resolve();
    const summary = await runRepro({
      ...common,
      only: ['margins'],
      jobs: 2,
      onLog: (l) => parentLog.push(l),
      runTask: (run) => {
        requested.push(`${run.experiment}/${run.key}`);
        chain = chain.then(() => trainReproRun(run.experiment as ExperimentName, run.key, { ...common, onLog: (l) => childLog.push(l) }));
        return chain;
      },
    });
    expect(requested.sort()).toEqual(['arcface', 'combined', 'cosface', 'softmax'].map((h) => `margins/${h}-s2048`));
    expect(childLog.filter((l) => l.startsWith('train '))).toHaveLength(4);
    expect(parentLog.filter((l) => l.startsWith('train '))).toEqual([]);
    expect(RunLedger.inDir(join(out, 'margins')).keys()).toHaveLength(4);
    expect(summary.results[0]!.status).toBe('done');
    expect(existsSync(join(out, 'REPORT.md'))).toBe(true);
    // the training processes wrote only the ledger: results.json and the plot come from the parent's pass
    expect(readdirSync(join(out, 'margins')).sort()).toEqual(['accuracy.png', 'results.json', 'runs.json']);

    // everything recorded: nothing left to hand out
    const again: string[] = [];
    await runRepro({ ...common, only: ['margins'], jobs: 2, runTask: async (run) => void again.push(run.key) });
    expect(again).toEqual([]);
    await expect(trainReproRun('margins', 'arcface-s2050', common)).rejects.toThrow(/--train-run arcface-s2050: margins has no such run with --seeds 1 --quick/);
    await expect(trainReproRun('inversion', 'x', common)).rejects.toThrow(/inversion keeps no run ledger/);
  }, 600_000);

  it('writes the report after the runs and names the failed ones', async () => {
    const out = mkdtempSync(join(tmpdir(), 'repro-jobs-'));
    const run = runRepro({
      quick: true,
      out,
      only: ['margins'],
      jobs: 2,
      runTask: async (task) => {
        if (task.key === 'cosface-s2048') throw new Error('exit code 1: out of memory');
      },
    });
    await expect(run).rejects.toThrow(/1 training run\(s\) failed.*\nmargins\/cosface-s2048: exit code 1: out of memory/s);
    expect(existsSync(join(out, 'REPORT.md'))).toBe(true);
    await expect(runRepro({ quick: true, out, only: ['margins'], jobs: 2 })).rejects.toThrow(/pass runTask/);
  });
});

describe('run lock', () => {
  it('refuses a run directory held by a live process, takes over one whose process is gone, and releases it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-lock-'));
    const lock = join(dir, RUN_LOCK_FILE);
    // a live owner: this test's parent process
    writeFileSync(lock, String(process.ppid));
    await expect(withRunLock(dir, async () => 1)).rejects.toThrow(new RegExp(`being trained by another process \\(pid ${process.ppid}`));
    // a dead owner: a child that has already exited
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(lock, gone.stdout);
    expect(await withRunLock(dir, async () => (existsSync(lock) ? 'held' : 'not held'))).toBe('held');
    expect(existsSync(lock)).toBe(false);
    // released when the work throws, too
    await expect(withRunLock(dir, async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(existsSync(lock)).toBe(false);
  });
});
