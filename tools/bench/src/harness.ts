import { loadavg } from 'node:os';
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

export interface Suite {
  name: string;
  description: string;
  run(opts: { quick: boolean }): Promise<BenchRow[]>;
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
