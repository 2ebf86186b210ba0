// Data-parallel training (`workers: 2`, two replica threads, SyncBN, gradients summed in shared memory) against
// the single-thread trainer at the same seed: the issue's promise is "results equal single-worker training up to
// float rounding", so losses, backbone weights, BN running statistics, class centres, head weights and optimizer
// slots are compared to float32 rounding noise — including a skipped non-finite step and a resume that switches
// from 1 to 2 workers. Tensor counts stay flat on the main thread and in every replica.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { ConfigError, DEFAULT_CONFIG, latestCheckpoint, mergeConfig, readCheckpoint, train, type TrainConfig, type TrainRunOptions } from '../src/index.js';
import { splitBatch, type ParallelStepReport } from '../src/parallel/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const tiny = (over: Partial<TrainConfig>): TrainConfig =>
  mergeConfig(
    DEFAULT_CONFIG,
    {
      network: 'iresnet18',
      width: 0.125,
      inputSize: 32,
      embeddingSize: 32,
      dataset: 'synthetic:identities=4,images=8,nuisance=0.3',
      batchSize: 8,
      lr: 0.02,
      lrReferenceBatch: 8,
      numEpoch: 100,
      warmupEpochs: 0,
      scale: 16,
      maxSteps: 6,
      frequent: 1,
      output: mkdtempSync(join(tmpdir(), 'facet-parallel-')),
      backend: 'wasm',
      ...over,
    } as Record<string, unknown>,
    'test',
  );

/** Step 4's batch gets NaN pixels: the step must be skipped the same way with and without workers. */
const nanAtStep4: TrainRunOptions['hooks'] = { beforeStep: (batch, step) => step === 3 && batch.images.fill(Number.NaN, 0, 50) };

async function run(cfg: TrainConfig, opts: TrainRunOptions = {}) {
  const losses: number[] = [];
  const mainTensors: number[] = [];
  const replicaTensors: number[][] = [];
  const nan: string[] = [];
  const summary = await train(cfg, {
    ...opts,
    onStep: (s) => {
      losses.push(s.loss);
      mainTensors.push(tf.memory().numTensors);
      const r = (s as ParallelStepReport).replicaTensors;
      if (r) replicaTensors.push(r);
    },
    onEvent: (e) => e.type === 'nan' && nan.push(e.message),
  });
  const ck = readCheckpoint(latestCheckpoint(cfg.output)!);
  return { summary, losses, mainTensors, replicaTensors, nan, arrays: ck.arrays, meta: ck.meta };
}

/** Optimizer slot keys carry tf.Variable names with a per-process instance number: compare by parameter. */
const canonical = (key: string) => key.replace(/#\d+\//, '/');

/**
 * Every array of `a` equals its counterpart in `b` to 1e-5 of the array's largest magnitude (3e-5 for optimizer
 * slots: momentum and Adam moments are sums of gradients, whose float32 rounding through the whole network — other
 * summation orders on 1 vs 2 replicas — is relatively larger than that of weights dominated by their initial
 * values), plus 1e-6 absolute for the tensors that are zero in exact arithmetic (e.g. biases of BNs followed by
 * another BN, whose gradient is a sum of cancelling terms): those hold only float32 rounding noise of about 1e-7.
 */
function expectSameState(a: Record<string, ArrayLike<number>>, b: Record<string, ArrayLike<number>>, skip: (key: string) => boolean = () => false) {
  const bByKey = new Map(Object.entries(b).map(([k, v]) => [canonical(k), v]));
  const compared = new Set<string>();
  let worst = { key: '', excess: 0 };
  for (const [k, x] of Object.entries(a)) {
    if (skip(k)) continue;
    const y = bByKey.get(canonical(k));
    expect(y, `${k} in both checkpoints`).toBeDefined();
    expect(y!.length).toBe(x.length);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < x.length; i++) {
      scale = Math.max(scale, Math.abs(y![i]!));
      diff = Math.max(diff, Math.abs(x[i]! - y![i]!));
    }
    const excess = diff / ((k.startsWith('opt/') ? 3e-5 : 1e-5) * scale + 1e-6);
    if (excess > worst.excess) worst = { key: k, excess };
    compared.add(k.split('/')[0]!);
  }
  expect(bByKey.size).toBe(Object.keys(a).length);
  expect(worst.excess, `worst: ${worst.key}`).toBeLessThanOrEqual(1);
  return compared;
}

function expectSameLosses(a: number[], b: number[]) {
  expect(a.length).toBe(b.length);
  a.forEach((l, i) => expect(Math.abs(l - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(b[i]!)));
}

describe('data-parallel training on worker threads', () => {
  let single: Awaited<ReturnType<typeof run>>;

  it('splits a batch into contiguous shards differing by at most one image', () => {
    expect(splitBatch(8, 2)).toEqual([{ start: 0, count: 4 }, { start: 4, count: 4 }]);
    expect(splitBatch(11, 3)).toEqual([{ start: 0, count: 4 }, { start: 4, count: 4 }, { start: 8, count: 3 }]);
  });

  it('workers=2 equals workers=1 (ArcFace, full FC, SGD), a NaN step included; tensors stay flat everywhere', async () => {
    single = await run(tiny({ workers: 1 }), { hooks: nanAtStep4 });
    const two = await run(tiny({ workers: 2 }), { hooks: nanAtStep4 });
    expect(single.losses).toHaveLength(5);
    expectSameLosses(two.losses, single.losses);
    for (const r of [single, two]) {
      expect(r.nan).toHaveLength(1);
      expect(r.nan[0]).toMatch(/step 4: loss .*gradient norm NaN: update skipped/);
      expect(r.summary.skippedSteps).toBe(1);
    }
    const parts = expectSameState(two.arrays, single.arrays);
    expect([...parts].sort()).toEqual(['backbone', 'objective', 'opt']);
    expect(two.meta.optimizer).toEqual(single.meta.optimizer);
    // flat from the second reported step on: main thread and each replica
    expect(new Set(two.mainTensors.slice(1)).size).toBe(1);
    expect(two.replicaTensors).toHaveLength(5);
    for (let r = 0; r < 2; r++) expect(new Set(two.replicaTensors.slice(1).map((c) => c[r])).size).toBe(1);
  });

  it('resumes a workers=1 checkpoint with workers=2 and ends where the uninterrupted run ends', async () => {
    const cfg = tiny({ workers: 1, maxSteps: 3 });
    await run(cfg, { hooks: nanAtStep4 });
    const resumed = await run({ ...cfg, workers: 2, maxSteps: 6 }, { resume: true, hooks: nanAtStep4 });
    expectSameLosses(resumed.losses, single.losses.slice(3));
    expectSameState(resumed.arrays, single.arrays);
  });

  it('softmax head (updated on the main thread) with AdamW: same losses and Adam moments as workers=1', async () => {
    const over = { objective: 'softmax', optimizer: 'adamw', lr: 1e-3, weightDecay: 0.05, maxSteps: 2, checkpointEvery: 1 } as const;
    const one = await run(tiny({ ...over, workers: 1 }));
    const two = await run(tiny({ ...over, workers: 2 }));
    expectSameLosses(two.losses, one.losses);
    expect(two.meta.optimizer).toEqual({ kind: 'adamw', step: 2 });
    // Adam's step m̂/(√v̂ + ε) is normalised per element: where the gradient is tiny (BN biases followed by another BN,
    // whose exact gradient is 0 and float gradient ~1e-9 noise, and elements the loss barely depends on) it turns
    // rounding noise into lr-sized steps, and later gradients inherit that. So compare the state after the first
    // step: the moments m = (1 − β₁)·g and v = (1 − β₂)·g² hold the summed gradients of backbone and head.
    const afterStep1 = (out: string) => readCheckpoint(join(out, 'checkpoints', 'step-00000001')).arrays;
    const notMoment = (k: string) => !/^opt\/.*\/(m|v)$/.test(k) || /\.bias\//.test(k);
    const parts = expectSameState(afterStep1(two.summary.output), afterStep1(one.summary.output), notMoment);
    expect([...parts]).toEqual(['opt']);
    expect(Object.keys(two.arrays).filter((k) => k.startsWith('opt/head/')).sort()).toEqual(['opt/head/softmax/bias/m', 'opt/head/softmax/bias/v', 'opt/head/softmax/weight/m', 'opt/head/softmax/weight/v']);
  });

  it('refuses a batch that leaves a worker fewer than 2 images, before writing anything', async () => {
    const cfg = tiny({ workers: 4, batchSize: 6 });
    const err = await train(cfg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/batchSize 6 with workers=4: every worker needs at least 2 images.*--batch-size 8/);
    expect(existsSync(join(cfg.output, 'config.json'))).toBe(false);
  });
});
