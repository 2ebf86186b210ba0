// The default thread count: the cores not busy now, measured from /proc/stat over a short window (the load average
// lags and counts this process's own past work).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { busyCores, threadsFor } from '../src/threads.js';

describe('default threads', () => {
  it('leaves the busy cores out, never below one or above all', () => {
    expect(threadsFor(2, 0)).toBe(2);
    expect(threadsFor(2, 0.4)).toBe(2);
    expect(threadsFor(2, 0.6)).toBe(1);
    expect(threadsFor(2, 4.7)).toBe(1);
    expect(threadsFor(16, 3.2)).toBe(13);
    expect(threadsFor(8, -1)).toBe(8);
  });

  it('sees this process keep a core busy during the sample', () => {
    const cores = availableParallelism();
    // a worker-free busy loop on this thread would block the sample, so burn CPU in a child instead
    const child = spawn(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 3000);'], { stdio: 'ignore' });
    try {
      const start = Date.now();
      while (Date.now() - start < 300); // let the child start spinning
      const { busy, how } = busyCores(cores, 300);
      if (how === 'in use now') expect(busy).toBeGreaterThan(0.5);
      expect(busy).toBeLessThanOrEqual(cores + 0.01);
    } finally {
      child.kill();
    }
  });
});
