// How many OpenMP threads the native engine takes when nobody says: the cores not busy right now. A fork-join
// kernel waits for its slowest thread, and on an oversubscribed machine that thread waits for a time slice (on 2 cores
// at load ≈ 9 a quickstart step ran 3.6× slower on 2 threads than on 1; at load ≈ 3 one thread was ~4 % faster).
// "Right now" is a 100 ms sample of /proc/stat: the 1-minute load average lags by a minute and counts this
// process's own recent work (the bench's previous suite once made the engine start on 1 of 2 idle cores).
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/** Jiffies [busy, total] summed over all CPUs, from /proc/stat's first line; undefined off Linux. */
function cpuJiffies(): [number, number] | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 5 || f.some((v) => !Number.isFinite(v))) return undefined;
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = f[3]! + f[4]!; // idle + iowait
    return [total - idle, total];
  } catch {
    return undefined;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Busy cores now: from two /proc/stat samples `ms` apart, else the 1-minute load average. */
export function busyCores(cores: number, ms = 100): { busy: number; how: string } {
  const a = cpuJiffies();
  if (a) {
    sleepSync(ms);
    const b = cpuJiffies();
    if (b && b[1] > a[1]) return { busy: (cores * (b[0] - a[0])) / (b[1] - a[1]), how: 'in use now' };
  }
  return { busy: loadavg()[0] ?? 0, how: 'load average' };
}

/** The cores left when `busy` of `cores` are in use (at least 1). */
export function threadsFor(cores: number, busy: number): number {
  return Math.max(1, Math.min(cores, cores - Math.round(busy)));
}

/** Threads when none are asked for: the cores not busy right now, at least 1. */
export function defaultThreads(): { threads: number; why: string } {
  const cores = availableParallelism();
  const { busy, how } = busyCores(cores);
  const threads = threadsFor(cores, busy);
  return { threads, why: threads < cores ? `${threads} of ${cores} cores (${busy.toFixed(1)} ${how} at start)` : `all ${cores} cores` };
}
