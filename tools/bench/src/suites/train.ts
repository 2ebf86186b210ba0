// Data-parallel training: images/s of whole `train()` steps (loader, backbone forward+backward, ArcFace head on the
// main thread, gradient sum through shared memory, clip, SGD) for IResNet-18 and MobileFaceNet at 112×112, with
// 2 worker replicas vs the single-thread trainer (workers=1), measured in the same run.
// Each replica has its own 4 GiB wasm heap, so the per-replica batch is what bounds memory: batch 32 over 2 workers
// is 16 images per engine (IResNet-18 ≈ 3.1 GiB by the trainer's estimate), while one engine cannot hold 32
// (≈ 5.7 GiB). The 1-worker baseline therefore runs batch 16 — the same 16 images per engine — and images/s are
// compared. Each run is its own child process (a fresh wasm heap; the heap never shrinks, and a fragmented one is
// the risk the trainer's memory refusal guards against). Steps after the first are timed (onStep to onStep).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChildScript, type BenchRow, type Suite } from '../harness.js';

interface RunResult {
  stepSeconds: number[];
  batch: number;
  workers: number;
  memoryGiB: number;
  /** Replica 0's step phases (ms) of the timed steps (workers > 1). */
  phases: Array<Record<string, number>>;
  /** CPU seconds (all threads of the process) of the timed steps. */
  cpuSeconds: number;
  error?: string;
}

// Runs in a fresh `node --input-type=module` whose cwd is inside the workspace, so '@facet/sdk' resolves to the build.
const CHILD = `
import { train, mergeConfig, DEFAULT_CONFIG } from '@facet/sdk';
const a = JSON.parse(process.argv[1]);
const stepSeconds = [];
const phases = [];
let last;
let cpu0;
let cpuSeconds = NaN;
let memoryBytes = NaN;
await train(mergeConfig(DEFAULT_CONFIG, a.config, 'bench'), {
  onStep: (s) => {
    const now = performance.now();
    if (last !== undefined) {
      stepSeconds.push((now - last) / 1000);
      if (s.phases) phases.push(s.phases);
      const u = process.cpuUsage(cpu0);
      cpuSeconds = (u.user + u.system) / 1e6;
    } else cpu0 = process.cpuUsage();
    last = now;
  },
  onEvent: (e) => {
    if (e.type === 'memory') memoryBytes = e.data.replicaBytes ?? e.data.engineBytes;
  },
});
process.stdout.write(JSON.stringify({ stepSeconds, phases, cpuSeconds, memoryGiB: memoryBytes / 2 ** 30 }) + '\\n');
`;

function runTraining(network: string, batch: number, workers: number, steps: number): RunResult {
  const output = mkdtempSync(join(tmpdir(), 'facet-bench-train-'));
  const config = {
    network,
    inputSize: 112,
    embeddingSize: 512,
    dataset: 'synthetic:identities=32,images=4',
    head: 'arcface',
    batchSize: batch,
    lrReferenceBatch: batch,
    workers,
    numWorkers: 0,
    maxSteps: steps,
    numEpoch: 100,
    valTargets: [],
    output,
    backend: 'wasm',
  };
  try {
    const r = runChildScript<Pick<RunResult, 'stepSeconds' | 'memoryGiB' | 'phases' | 'cpuSeconds'>>(CHILD, { config }, 10);
    if (!r.ok) return { stepSeconds: [], phases: [], cpuSeconds: NaN, batch, workers, memoryGiB: NaN, error: r.error };
    return { ...r.value, batch, workers };
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);

function row(network: string, one: RunResult, two: RunResult): BenchRow {
  const rate = (r: RunResult) => r.batch / median(r.stepSeconds);
  const best = (r: RunResult) => r.batch / Math.min(...r.stepSeconds);
  const errors = [one.error && `workers=1 ${one.error}`, two.error && `workers=2 ${two.error}`].filter(Boolean);
  const mem = (r: RunResult) => `${r.memoryGiB.toFixed(2)} GiB`;
  // CPU seconds per image over all threads: what the parallel step costs in total, whatever else loads the machine
  const cpuPerImage = (r: RunResult) => (r.cpuSeconds / (r.batch * r.stepSeconds.length)).toFixed(2);
  const keys = Object.keys(two.phases[0] ?? {});
  const phases = keys.length ? `; replica step (median s): ${keys.map((k) => `${k} ${(median(two.phases.map((p) => p[k]!)) / 1000).toFixed(2)}`).join(', ')}` : '';
  return {
    suite: 'train',
    case: `${network} 112², ArcFace, SGD`,
    metric: `training img/s, batch ${two.batch} on 2 workers`,
    facet: rate(two),
    facetMin: best(two),
    baseline: rate(one),
    baselineMin: best(one),
    baselineName: `workers=1 (single-thread trainer), batch ${one.batch}`,
    ratio: rate(two) / rate(one),
    note:
      errors.join('; ') ||
      `${two.batch / 2} images per engine in both (estimated ${mem(two)} per worker, ${mem(one)} single); ${one.stepSeconds.length}/${two.stepSeconds.length} timed steps after a warm-up step; 2 replicas + the main thread share the cores; CPU s/img (all threads) ${cpuPerImage(two)} vs ${cpuPerImage(one)}${phases}`,
  };
}

export const trainSuite: Suite = {
  name: 'train-workers',
  description: 'data-parallel training on worker threads: images/s with 2 workers vs 1, IResNet-18 and MobileFaceNet at 112×112',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    for (const network of ['mobilefacenet', 'iresnet18']) {
      // batch 32 over 2 workers = 16 per engine, the most that fits IResNet-18 in a 4 GiB heap (see above)
      const perEngine = quick ? 4 : 16;
      const steps = quick ? 2 : network === 'iresnet18' ? 3 : 4;
      const one = runTraining(network, perEngine, 1, steps);
      console.log(`  ${network} workers=1 batch ${perEngine}: ${one.error ?? `${(perEngine / median(one.stepSeconds)).toFixed(2)} img/s`}`);
      const two = runTraining(network, 2 * perEngine, 2, steps);
      console.log(`  ${network} workers=2 batch ${2 * perEngine}: ${two.error ?? `${((2 * perEngine) / median(two.stepSeconds)).toFixed(2)} img/s`}`);
      rows.push(row(network, one, two));
    }
    return rows;
  },
};
