import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@facet/sdk';

export interface BenchRow {
  suite: string;
  case: string;
  metric: string;
  /** Facet's figure (median over repeats). */
  facet: number;
  /** The baseline measured in the same run (median). */
  baseline: number;
  baselineName: string;
  /** facet/baseline where higher is better for Facet (throughputs), baseline/facet for times. */
  ratio: number;
  facetMin?: number;
  baselineMin?: number;
  note?: string;
}

/** What a suite returns: its rows, and optionally extra markdown sections (profiles, peer details). */
export interface SuiteResult {
  rows: BenchRow[];
  sections?: string[];
}

export interface Suite {
  name: string;
  description: string;
  run(opts: { quick: boolean }): Promise<BenchRow[] | SuiteResult>;
}

export interface Timing {
  median: number;
  min: number;
  samples: number[];
}

/** Median/min seconds of `fn` over `repeats` runs after `warmup` runs; `fn` must block until done. */
export async function timeIt(fn: () => unknown | Promise<unknown>, repeats = 3, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, samples };
}

/** Run `fn` on `backend`, dispose everything it made, and block on its outputs. */
export function blocking(fn: () => tf.Tensor | tf.Tensor[]): () => void {
  return () => {
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync();
    tf.dispose(list);
  };
}

export function machineLoad(): string {
  const [l1, l5] = loadavg();
  return `load average ${l1!.toFixed(2)} (1 min), ${l5!.toFixed(2)} (5 min)`;
}

/**
 * Time `a` and `b` alternately (a, b, a, b, …) after one warm-up each, so that a change in the machine's load
 * during the measurement hits both sides alike instead of biasing their ratio.
 */
export async function timeInterleaved(
  a: () => unknown | Promise<unknown>,
  b: () => number | Promise<number>,
  repeats: number,
  warmup = 1,
): Promise<{ a: Timing; b: Timing }> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await a();
    sa.push((performance.now() - t0) / 1000);
    // b reports its own seconds (a peer process times itself, excluding the IPC round trip)
    sb.push(await b());
  }
  return { a: summarize(sa), b: summarize(sb) };
}

export function summarize(samples: number[]): Timing {
  const sorted = [...samples].sort((x, y) => x - y);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN, samples };
}

/** A markdown table from a header and rows of cells. */
export function markdownTable(header: string[], rows: Array<Array<string | number>>, align?: string[]): string {
  const al = align ?? header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [`| ${header.join(' | ')} |`, `|${al.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export const fmt = (x: number): string =>
  !Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);

/**
 * Run `code` (an ES module; `process.argv[1]` is `arg` as JSON) in a fresh Node process: a fresh wasm heap per
 * measured case, since the heap never shrinks. Its cwd is the bench's own folder, so bare specifiers in the code
 * resolve to the workspace packages. The last stdout line must be the JSON result.
 */
export function runChildScript<T>(code: string, arg: unknown, timeoutMinutes: number): { ok: true; value: T } | { ok: false; error: string } {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(arg)], {
    cwd: dirname(fileURLToPath(import.meta.url)),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    timeout: timeoutMinutes * 60_000,
  });
  const line = child.stdout?.trim().split('\n').at(-1);
  if (child.status !== 0 || !line?.startsWith('{')) {
    const why = (child.stderr || child.error?.message || `exit ${child.status}`).trim().split('\n').slice(-3).join(' | ');
    return { ok: false, error: `failed: ${why}` };
  }
  return { ok: true, value: JSON.parse(line) as T };
}
