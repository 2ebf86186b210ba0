// One training run of an experiment, resumable: the run's measured row is stored next to its output, and a
// finished run (row file present) is read back instead of retrained.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackbone } from '@facet/backbones';
import type { FaceDataset, VerificationSet } from '@facet/data';
import { embed, verify } from '@facet/eval';
import { latestCheckpoint, resolveConfig, train, type TrainConfig, type TrainSummary } from '@facet/train';
import { withRunLock } from './run-lock.js';
import type { ReproSizes } from './sizes.js';
import type { ExperimentOptions } from './types.js';

export interface RunMeasure {
  accuracy: number;
  accuracyStd: number;
  auc: number;
  tarAt1e1: number;
  tarAt1e2: number;
  seconds: number;
  stepMs: number;
  imagesPerSec: number;
  memoryMiB: number;
  finalLoss: number;
  output: string;
  modelDir: string;
}

/** Settings every experiment shares, from the run sizes; `overrides` are the experiment's own. */
export function baseConfig(sizes: ReproSizes, dataSpec: string, output: string, seed: number, overrides: Partial<TrainConfig>): TrainConfig {
  return resolveConfig({
    overrides: {
      network: sizes.network,
      width: sizes.width,
      inputSize: sizes.inputSize,
      embeddingSize: sizes.embeddingSize,
      scale: 32,
      batchSize: sizes.batchSize,
      lr: 0.1,
      lrReferenceBatch: sizes.batchSize,
      numEpoch: sizes.epochs,
      warmupEpochs: 0,
      verbose: 0,
      frequent: 5,
      // full runs checkpoint as they go, so an interrupted `facet repro` continues mid-run
      checkpointEvery: sizes.checkpointEvery,
      valTargets: [],
      dataset: dataSpec,
      output,
      seed,
      backend: 'wasm',
      ...overrides,
    },
  });
}

/** The `facet train` flags that reproduce a config (only the keys that differ from insightface's defaults). */
export function trainCommand(cfg: TrainConfig, keys: Array<keyof TrainConfig>): string {
  const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  const arg = (k: keyof TrainConfig) => {
    const v = cfg[k];
    if (typeof v === 'boolean') return v ? flag(k) : `--no-${flag(k).slice(2)}`;
    return `${flag(k)} ${Array.isArray(v) ? (v as unknown[]).join(',') : String(v)}`;
  };
  return `facet train ` + keys.map(arg).join(' ');
}

export async function verifyModel(modelDir: string, set: VerificationSet): Promise<Pick<RunMeasure, 'accuracy' | 'accuracyStd' | 'auc' | 'tarAt1e1' | 'tarAt1e2'>> {
  const model = await loadBackbone(modelDir);
  try {
    const ea = await embed(model, set.imagesA, { flip: true });
    const eb = await embed(model, set.imagesB, { flip: true });
    const r = verify(ea, eb, set.issame, { dim: ea.length / set.issame.length, fars: [1e-1, 1e-2] });
    const tar = (far: number) => r.tarAtFar.find((t) => t.far === far)?.tar ?? NaN;
    return { accuracy: r.accuracy.accuracy, accuracyStd: r.accuracy.std, auc: r.auc, tarAt1e1: tar(1e-1), tarAt1e2: tar(1e-2) };
  } finally {
    model.dispose();
  }
}

/** Train (or read back) one run and measure it on the verification set. */
export async function trainAndMeasure(
  opts: ExperimentOptions,
  cfg: TrainConfig,
  dataset: FaceDataset,
  set: VerificationSet | null,
): Promise<RunMeasure & { summary?: TrainSummary }> {
  const rowPath = join(cfg.output, 'repro-row.json');
  // a stored row is reused only for the very same config (sizes may change between versions or --quick / full)
  const configKey = JSON.stringify(cfg);
  if (opts.resume && existsSync(rowPath)) {
    const stored = JSON.parse(readFileSync(rowPath, 'utf8')) as RunMeasure & { configKey?: string };
    if (stored.configKey === configKey) return stored;
  }
  const sameConfig = existsSync(join(cfg.output, 'config.json')) && readFileSync(join(cfg.output, 'config.json'), 'utf8') === JSON.stringify(cfg, null, 2);
  mkdirSync(cfg.output, { recursive: true });
  return withRunLock(cfg.output, async () => {
    opts.onLog?.(`train ${cfg.output}`);
    // an interrupted run continues from its last checkpoint (same config), a finished one is read back above
    const resume = opts.resume && sameConfig && latestCheckpoint(cfg.output) !== undefined;
    const summary = await train(cfg, resume ? { dataset, resume: true } : { dataset, force: true });
    const stepMs = (1000 * summary.config.batchSize) / summary.imagesPerSec;
    const measured = set ? await verifyModel(summary.modelDir, set) : { accuracy: NaN, accuracyStd: NaN, auc: NaN, tarAt1e1: NaN, tarAt1e2: NaN };
    const row: RunMeasure = {
      ...measured,
      seconds: summary.seconds,
      stepMs,
      imagesPerSec: summary.imagesPerSec,
      memoryMiB: summary.memory.estimatedEngineBytes / 2 ** 20,
      finalLoss: summary.finalLoss,
      output: summary.output,
      modelDir: summary.modelDir,
    };
    writeFileSync(rowPath, JSON.stringify({ ...row, configKey }, null, 1));
    return { ...row, summary };
  });
}

/** Mean and standard deviation of each numeric key over seeds. */
export function aggregate(rows: Array<Record<string, number>>, keys: string[]): { values: Record<string, number>; std: Record<string, number> } {
  const values: Record<string, number> = {};
  const std: Record<string, number> = {};
  for (const k of keys) {
    const xs = rows.map((r) => r[k]!).filter((x) => Number.isFinite(x));
    if (xs.length === 0) continue;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    values[k] = m;
    std[k] = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  }
  return { values, std };
}
