// `recognizability: true` (facet train --recognizability): RER's additions in the training loop. A tiny run logs
// finite loss parts, keeps the tensor count flat, stores a calibrated quality model with the backbone, and a
// resumed run reproduces the uninterrupted one (RI head, attention, UI centre and dropout draws are checkpointed).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { readQualityModel } from '@facet/quality';
import { DEFAULT_CONFIG, mergeConfig, resolveConfig, train, type TrainConfig } from '../src/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const tiny = (over: Partial<TrainConfig> = {}): TrainConfig =>
  mergeConfig(
    DEFAULT_CONFIG,
    {
      network: 'iresnet18',
      width: 0.125,
      inputSize: 32,
      embeddingSize: 32,
      dataset: 'synthetic:identities=8,images=8',
      batchSize: 16,
      lr: 0.1,
      lrReferenceBatch: 16,
      numEpoch: 2,
      scale: 16,
      output: mkdtempSync(join(tmpdir(), 'facet-rer-')),
      backend: 'wasm',
      recognizability: true,
      augment: 'lowres',
      riUiImages: 4,
      ...over,
    } as Record<string, unknown>,
    'test',
  );

const logRows = (out: string) =>
  readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; loss: number; ri?: { regression: number; diversion: number; attention: number; meanIndex: number } });

describe('train with recognizability', () => {
  it('logs finite RER loss parts, keeps tensors flat, and stores a calibrated quality model', async () => {
    const cfg = tiny();
    const counts: number[] = [];
    const s = await train(cfg, { onStep: () => counts.push(tf.memory().numTensors) });
    expect(s.objective).toMatch(/recognizability/);
    const rows = logRows(cfg.output);
    expect(rows.length).toBe(s.steps);
    for (const r of rows) {
      expect(r.ri).toBeDefined();
      for (const v of Object.values(r.ri!)) expect(Number.isFinite(v)).toBe(true);
      expect(r.ri!.attention).toBeGreaterThan(0);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(existsSync(join(s.modelDir, 'quality.json'))).toBe(true);
    const q = readQualityModel(s.modelDir)!;
    expect(q.uiCenter?.length).toBe(32);
    expect(q.head).toBeDefined();
  });

  it('a resumed run continues with the same losses as an uninterrupted one', async () => {
    const full = tiny({ maxSteps: 6 });
    await train(full);
    const part = tiny({ maxSteps: 3 });
    await train(part);
    await train({ ...part, maxSteps: 6 }, { resume: true });
    const a = logRows(full.output).map((r) => r.loss);
    const b = logRows(part.output).map((r) => r.loss);
    expect(b.length).toBe(6);
    for (let i = 0; i < 6; i++) expect(b[i]).toBeCloseTo(a[i]!, 4);
  });

  it('trains with Partial FC sampling (r = 0.5): the RI sees only the sampled centres', async () => {
    const cfg = tiny({ sampleRate: 0.5, maxSteps: 4 });
    await train(cfg);
    for (const r of logRows(cfg.output)) for (const v of Object.values(r.ri!)) expect(Number.isFinite(v)).toBe(true);
  });

  it('refuses what it cannot train, before writing anything', async () => {
    const soft = tiny({ objective: 'softmax' });
    await expect(train(soft)).rejects.toThrow(/--recognizability needs a margin head/);
    expect(existsSync(join(soft.output, 'log.jsonl'))).toBe(false);
    await expect(train(tiny({ workers: 2 }))).rejects.toThrow(/--recognizability runs on one worker/);
  });

  it('turns the augmentation to lowres unless it is set explicitly', () => {
    expect(resolveConfig({ overrides: { recognizability: 'true' } }).augment).toBe('lowres');
    expect(resolveConfig({ overrides: { recognizability: true, augment: 'flip' } }).augment).toBe('flip');
    expect(resolveConfig({ overrides: { recognizability: 'false' } }).augment).toBe('flip');
    expect(() => resolveConfig({ overrides: { recognizability: 'yes' } })).toThrow(/"recognizability" must be true or false/);
  });
});

describe('sampledPrototypes: the RI reads only the centres Partial FC sampled', () => {
  it('returns the sampled rows (all sub-centres) and labels as positions among them', async () => {
    const { ClassCenterStore } = await import('@facet/partial-fc');
    const { sampledPrototypes } = await import('../src/recognizability.js');
    const store = new ClassCenterStore({ numClasses: 10, embeddingSize: 3, subCenters: 2, seed: 7 });
    const all = store.exportWeights();
    const sampled = Int32Array.from([1, 4, 5, 9]);
    let reads = 0;
    const source = {
      lastSampledClasses: () => sampled,
      store: { gatherRows: (i: ArrayLike<number>) => (reads++, store.gatherRows(i)) },
    };
    const { prototypes, labels } = sampledPrototypes(source, Int32Array.from([9, 1, 4, 9]));
    expect(Array.from(labels)).toEqual([3, 0, 1, 3]);
    expect(reads).toBe(1);
    expect(prototypes.length).toBe(4 * 2 * 3);
    sampled.forEach((c, i) => expect(Array.from(prototypes.subarray(i * 6, (i + 1) * 6))).toEqual(Array.from(all.subarray(c * 6, (c + 1) * 6))));
    expect(() => sampledPrototypes(source, Int32Array.from([2]))).toThrow(/class 2 of the batch was not sampled/);
    expect(() => sampledPrototypes({ ...source, lastSampledClasses: () => undefined }, Int32Array.from([1]))).toThrow(/has not run a forward yet/);
  });
});
