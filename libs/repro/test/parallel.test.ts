import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentTasks, runRepro, runTasks, RUN_LOCK_FILE, withRunLock, type ExperimentName } from '../src/index.js';

describe('repro --jobs scheduling', () => {
  it('keeps the experiments that share the ArcFace run in one ordered task, costliest tasks first', () => {
    expect(experimentTasks(['recognizability', 'contrastive', 'margins', 'partial-fc', 'inversion', 'subcenter'])).toEqual([
      ['partial-fc'],
      ['subcenter'],
      ['margins', 'inversion', 'recognizability'],
      ['contrastive'],
    ]);
    expect(experimentTasks(['recognizability', 'inversion'])).toEqual([['inversion', 'recognizability']]);
    expect(experimentTasks(['contrastive'])).toEqual([['contrastive']]);
  });

  it('never has more than `jobs` tasks in flight, runs every task once, and reports failures without stopping the rest', async () => {
    const tasks: ExperimentName[][] = [['partial-fc'], ['subcenter'], ['margins', 'inversion'], ['contrastive']];
    let inFlight = 0;
    let most = 0;
    const ran: string[] = [];
    const failures = await runTasks(tasks, 2, async (task) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5 + 10 * task.length));
      inFlight--;
      ran.push(task.join(','));
      if (task[0] === 'subcenter') throw new Error('boom');
    });
    expect(most).toBe(2);
    expect(ran.sort()).toEqual(['contrastive', 'margins,inversion', 'partial-fc', 'subcenter']);
    expect(failures.map((f) => [f.task, f.error.message])).toEqual([[['subcenter'], 'boom']]);
    await expect(runTasks(tasks, 0, async () => {})).rejects.toThrow(/--jobs must be an integer ≥ 1/);
  });

  it('writes the report after every task and names the failed ones', async () => {
    const out = mkdtempSync(join(tmpdir(), 'repro-jobs-'));
    const seen: string[] = [];
    const run = runRepro({
      out,
      only: ['margins', 'contrastive'],
      jobs: 2,
      runTask: async (task) => {
        seen.push(task.join(','));
        if (task[0] === 'contrastive') throw new Error('exit code 1: out of memory');
      },
    });
    await expect(run).rejects.toThrow(/1 of 2 repro tasks failed.*\ncontrastive: exit code 1: out of memory/s);
    expect(seen.sort()).toEqual(['contrastive', 'margins']);
    expect(existsSync(join(out, 'REPORT.md'))).toBe(true);
    await expect(runRepro({ out, only: ['margins', 'contrastive'], jobs: 2 })).rejects.toThrow(/pass runTask/);
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
