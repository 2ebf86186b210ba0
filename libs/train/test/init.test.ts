// Fine-tuning (--init, --freeze, --freeze-bn, --backbone-lr-scale): the backbone starts from a saved model's weights,
// the architecture comes from that model, frozen parameters end the run exactly as they started while the others
// move, and with frozen BN (the default with --init) the first training forward is the saved model's inference.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackbone } from '@facet/backbones';
import { initEngine, tf } from '@facet/engine';
import { DEFAULT_CONFIG, mergeConfig, resolveConfig, train, type TrainConfig } from '../src/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const tiny = (over: Record<string, unknown>): TrainConfig =>
  mergeConfig(
    DEFAULT_CONFIG,
    {
      network: 'iresnet18',
      width: 0.125,
      inputSize: 32,
      embeddingSize: 32,
      dataset: 'synthetic:identities=6,images=8',
      batchSize: 16,
      lr: 0.1,
      lrReferenceBatch: 16,
      numEpoch: 4,
      scale: 16,
      maxSteps: 3,
      output: mkdtempSync(join(tmpdir(), 'facet-init-')),
      backend: 'wasm',
      ...over,
    },
    'test',
  );

async function weightsOf(dir: string): Promise<Record<string, Float32Array>> {
  const b = await loadBackbone(dir);
  const out = Object.fromEntries(Object.entries(b.getWeights()).map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
  b.dispose();
  return out;
}

describe('fine-tuning from a saved model', () => {
  let pretrained: string;

  beforeAll(async () => {
    pretrained = (await train(tiny({ seed: 11 }))).modelDir;
  }, 120_000);

  it('starts from the init weights: frozen parameters stay bit-identical, the rest move; --freeze-bn false updates BN statistics', async () => {
    const before = await weightsOf(pretrained);
    const frozen = ['conv1', 'bn1', 'prelu', 'layer1'];
    // another seed and dataset: a random init would differ from the pretrained weights everywhere
    const s = await train(tiny({ seed: 99, init: pretrained, freeze: frozen, freezeBn: 'false', dataset: 'synthetic:identities=5,images=8,seed=3' }));
    const after = await weightsOf(s.modelDir);
    const isFrozen = (k: string) => frozen.some((p) => k === p || k.startsWith(`${p}.`)) && !/running_|num_batches/.test(k);
    let frozenCount = 0;
    let moved = 0;
    for (const [k, a] of Object.entries(before)) {
      const same = a.every((x, i) => x === after[k]![i]);
      if (isFrozen(k)) {
        frozenCount++;
        expect(same, k).toBe(true);
      } else if (!same) moved++;
    }
    expect(frozenCount).toBeGreaterThan(10);
    expect(moved).toBeGreaterThan(20);
    expect(before['layer1.0.bn1.running_mean']!.some((x, i) => x !== after['layer1.0.bn1.running_mean']![i])).toBe(true);
  }, 120_000);

  it('takes the architecture from the init model and refuses a contradicting flag', () => {
    const cfg = resolveConfig({ overrides: { init: pretrained, dataset: 'synthetic' } });
    expect([cfg.network, cfg.width, cfg.inputSize, cfg.embeddingSize]).toEqual(['iresnet18', 0.125, 32, 32]);
    const viaRun = resolveConfig({ overrides: { init: join(pretrained, '..') } });
    expect(viaRun.network).toBe('iresnet18');
    expect(() => resolveConfig({ overrides: { init: pretrained, network: 'mobilefacenet' } })).toThrow(
      /--init .* is network="iresnet18" but the config asks for network="mobilefacenet"; drop those settings/,
    );
  });

  it('names what is wrong with --init and --freeze', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'facet-init-')), 'model.pth');
    writeFileSync(file, 'x');
    expect(() => resolveConfig({ overrides: { init: file } })).toThrow(/--init .*model.pth: a file; convert it to a Facet model folder first \(facet import/);
    expect(() => resolveConfig({ overrides: { init: tmpdir() + '/no-such-model' } })).toThrow(/not a Facet model folder/);
    await expect(train(tiny({ init: pretrained, freeze: ['layer9'] }))).rejects.toThrow(/--freeze layer9: no trainable parameter of iresnet18 has that name prefix; its top-level names are conv1, bn1, prelu, layer1/);
    await expect(train(tiny({ init: pretrained, freeze: ['conv1'], workers: 2 }))).rejects.toThrow(/--freeze runs on one worker/);
  });
  it('frozen BN (the --init default): the first training forward equals the saved model\'s inference, statistics never change, γ/β move', async () => {
    const before = await weightsOf(pretrained);
    const reference = await loadBackbone(pretrained);
    let firstForward: { images: Float32Array; embeddings: Float32Array } | undefined;
    let images: Float32Array | undefined;
    const s = await train(tiny({ seed: 99, init: pretrained, dataset: 'synthetic:identities=5,images=8,seed=3', augment: 'none' }), {
      hooks: {
        beforeStep: (batch, step) => {
          if (step === 0) images = batch.images.slice();
        },
        embeddings: (emb, step) => {
          if (step === 0) firstForward = { images: images!, embeddings: emb.dataSync().slice() as Float32Array };
        },
      },
    });
    const inference = tf.tidy(() => reference.apply(tf.tensor4d(firstForward!.images, [16, 32, 32, 3])).dataSync());
    expect(firstForward!.embeddings.length).toBe(inference.length);
    expect(firstForward!.embeddings.every((v, i) => v === inference[i])).toBe(true);
    reference.dispose();
    const after = await weightsOf(s.modelDir);
    for (const k of Object.keys(before).filter((n) => /running_(mean|var)$/.test(n))) {
      expect(before[k]!.every((v, i) => v === after[k]![i]), k).toBe(true);
    }
    expect(before['layer1.0.bn1.bias']!.some((v, i) => v !== after['layer1.0.bn1.bias']![i])).toBe(true);
    expect(before['layer1.0.bn1.weight']!.some((v, i) => v !== after['layer1.0.bn1.weight']![i])).toBe(true);
  }, 120_000);

  it('--backbone-lr-scale 0 leaves the backbone where it started while the head trains', async () => {
    const before = await weightsOf(pretrained);
    const s = await train(tiny({ seed: 99, init: pretrained, backboneLrScale: 0, weightDecay: 0 }));
    const after = await weightsOf(s.modelDir);
    for (const [k, a] of Object.entries(before)) expect(a.every((v, i) => v === after[k]![i]), k).toBe(true);
    expect(s.finalLoss).toBeLessThan(s.firstLoss);
  }, 120_000);
  it('frozen BN on data-parallel replicas too: --workers 2 fine-tuning leaves the statistics as imported', async () => {
    const before = await weightsOf(pretrained);
    const s = await train(tiny({ seed: 5, init: pretrained, workers: 2 }));
    const after = await weightsOf(s.modelDir);
    const stats = Object.keys(before).filter((n) => /running_(mean|var)$/.test(n));
    expect(stats.length).toBeGreaterThan(10);
    for (const k of stats) expect(before[k]!.every((v, i) => v === after[k]![i]), k).toBe(true);
    expect(before['conv1.weight']!.some((v, i) => v !== after['conv1.weight']![i])).toBe(true);
  }, 120_000);
});
