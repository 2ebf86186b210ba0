// End-to-end: tiny IResNets trained on a tiny synthetic set must actually learn (loss falls, accuracy far above
// chance) with ArcFace, with Partial FC at r = 0.3 and with sub-center ArcFace K = 3; tensors stay flat; a NaN
// batch is skipped without touching the weights; bad configurations are refused before anything is written.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { DEFAULT_CONFIG, cleanRun, mergeConfig, train, type TrainConfig } from '../src/index.js';

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
      dataset: 'synthetic:identities=8,images=12,nuisance=0.3',
      batchSize: 16,
      lr: 0.1,
      lrReferenceBatch: 16,
      numEpoch: 6,
      warmupEpochs: 0,
      scale: 16,
      frequent: 1,
      output: mkdtempSync(join(tmpdir(), 'facet-train-')),
      backend: 'wasm',
      ...over,
    } as Record<string, unknown>,
    'test',
  );

function firstLast(out: string) {
  const rows = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const n = Math.min(3, Math.floor(rows.length / 3));
  const mean = (r: Array<{ loss: number; accuracy: number }>, k: 'loss' | 'accuracy') => r.reduce((s, x) => s + x[k], 0) / r.length;
  return { rows, lossStart: mean(rows.slice(0, n), 'loss'), lossEnd: mean(rows.slice(-n), 'loss'), accEnd: mean(rows.slice(-n), 'accuracy') };
}

describe('train', () => {
  for (const [name, over] of [
    ['ArcFace, full FC', {}],
    ['ArcFace, Partial FC r=0.3', { sampleRate: 0.3 }],
    ['sub-center ArcFace K=3', { subCenters: 3 }],
  ] as Array<[string, Partial<TrainConfig>]>) {
    it(`${name}: loss falls and training accuracy rises well above chance`, async () => {
      const cfg = tiny(over);
      const s = await train(cfg);
      const { lossStart, lossEnd, accEnd } = firstLast(cfg.output);
      console.log(`${name}: loss ${lossStart.toFixed(3)} → ${lossEnd.toFixed(3)}, batch accuracy ${accEnd.toFixed(3)} (chance ${(1 / 8).toFixed(3)}), ${s.imagesPerSec.toFixed(1)} img/s`);
      expect(lossEnd).toBeLessThan(0.7 * lossStart);
      expect(accEnd).toBeGreaterThan(0.5);
      expect(existsSync(join(s.modelDir, 'manifest.json'))).toBe(true);
      expect(s.plots.some((p) => p.endsWith('loss.png'))).toBe(true);
    });
  }

  it('facet clean on a sub-center run writes a keep list that a new run trains on', async () => {
    const cfg = tiny({ subCenters: 3, maxSteps: 12 });
    await train(cfg);
    const r = await cleanRun(cfg.output, { thresholdDegrees: 60 });
    const lines = readFileSync(r.list, 'utf8').trim().split('\n');
    expect(r.kept + r.dropped).toBe(96);
    expect(lines.length).toBe(r.kept);
    expect(r.perClass.reduce((s, c) => s + c.dropped, 0)).toBe(r.dropped);
    const s = await train(tiny({ keepList: r.list, maxSteps: 2 }));
    expect(s.steps).toBe(2);
    await expect(train(tiny({ keepList: join(cfg.output, 'config.json'), maxSteps: 1 }))).rejects.toThrow(/keepList .*line 1 names/);
  });

  it('tf.memory().numTensors is flat over 50 steps', async () => {
    const counts: number[] = [];
    await train(tiny({ numEpoch: 100, maxSteps: 50, dataset: 'synthetic:identities=4,images=8', batchSize: 8, lrReferenceBatch: 8 }), {
      onStep: (s) => {
        if (s.step >= 3) counts.push(tf.memory().numTensors);
      },
    });
    expect(counts.length).toBe(48);
    expect(Math.max(...counts) - Math.min(...counts)).toBe(0);
  });

  it('a non-finite loss skips the step and keeps weights and BN statistics at the last good state', async () => {
    const events: string[] = [];
    const cfg = tiny({ numEpoch: 100, maxSteps: 6, dataset: 'synthetic:identities=4,images=8', batchSize: 8, lrReferenceBatch: 8 });
    const s = await train(cfg, {
      hooks: { beforeStep: (batch, step) => step === 3 && batch.images.fill(Number.NaN, 0, 10) },
      onEvent: (e) => e.type === 'nan' && events.push(e.message),
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/step 4: loss .*(NaN|Infinity).*update skipped/);
    expect(s.skippedSteps).toBe(1);
    expect(Number.isFinite(s.finalLoss)).toBe(true);
    const log = readFileSync(join(cfg.output, 'log.jsonl'), 'utf8');
    expect(log).toMatch(/"event":"non-finite"/);
  });

  it('refuses bad configurations before writing anything', async () => {
    await expect(train(tiny({ batchSize: 500 }))).rejects.toThrow(/batchSize 500 is larger than the dataset \(96 images/);
    const cfg = tiny({ maxSteps: 1 });
    await train(cfg);
    await expect(train(cfg)).rejects.toThrow(/holds another run; pass --resume to continue it, --force/);
    await expect(train({ ...cfg, width: 0.25 }, { resume: true })).rejects.toThrow(/different model \(width=0.125\).*\(width=0.25\)/);
  });
});
