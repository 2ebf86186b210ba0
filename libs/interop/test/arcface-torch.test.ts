// A short Facet training run exported as arcface_torch checkpoint_gpu_{rank}.pt files: centres split as Partial FC
// v2 splits them, the backbone as load_state_dict expects, and (with torch) real PyTorch resuming from them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackbone } from '@facet/backbones';
import { initEngine } from '@facet/engine';
import { DEFAULT_CONFIG, latestCheckpoint, mergeConfig, readCheckpoint, train } from '@facet/train';
import { exportArcfaceTorch, importModel, partialFcShard, readArcfaceTorchDir, readTorchFile, tensorDataToFloat32, type TensorData } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'facet-arcface-torch-'));
const run = join(tmp, 'run');
const PY = '/usr/bin/python3';
const CHECK = join(import.meta.dirname, '..', '..', '..', 'tools', 'interop-fixtures', 'check_arcface_torch.py');
const env = { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' };
let hasTorch = false;

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore', env, timeout: 60_000 });
    hasTorch = true;
  } catch {
    hasTorch = false;
  }
  const cfg = mergeConfig(
    DEFAULT_CONFIG,
    {
      network: 'iresnet18',
      width: 0.0625,
      inputSize: 32,
      embeddingSize: 16,
      dataset: 'synthetic:identities=7,images=4',
      batchSize: 14,
      lr: 0.1,
      lrReferenceBatch: 14,
      numEpoch: 2,
      maxSteps: 3,
      output: run,
      backend: 'wasm',
    },
    'test',
  );
  await train(cfg);
}, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('arcface_torch checkpoints', () => {
  it('partialFcShard is partial_fc_v2.py\'s split', () => {
    // C = 10, W = 4: 3, 3, 2, 2 starting at 0, 3, 6, 8
    expect([0, 1, 2, 3].map((r) => partialFcShard(10, 4, r))).toEqual([
      { start: 0, numLocal: 3 },
      { start: 3, numLocal: 3 },
      { start: 6, numLocal: 2 },
      { start: 8, numLocal: 2 },
    ]);
  });

  it('exports a run over 3 ranks and reads it back: same centres, same backbone, epoch and step', async () => {
    const out = join(tmp, 'arcface');
    const r = await exportArcfaceTorch(run, out, { worldSize: 3 });
    expect(r.numClasses).toBe(7);
    expect(r.numLocal).toEqual([3, 2, 2]);
    expect(r.globalStep).toBe(3);
    expect(r.notCarried.join('\n')).not.toMatch(/momentum/);
    const ck = readCheckpoint(latestCheckpoint(run)!);
    const back = readArcfaceTorchDir(out);
    expect(back.worldSize).toBe(3);
    expect(back.globalStep).toBe(3);
    expect(back.centres.shape).toEqual([7, 16]);
    expect(Array.from(tensorDataToFloat32(back.centres))).toEqual(Array.from(ck.arrays['objective/weights'] as Float32Array));
    // importing the folder gives the run's final backbone exactly
    const imported = await importModel(out, { inputSize: 32 });
    const model = await loadBackbone(join(run, 'model'));
    const a = imported.getWeights();
    for (const [k, t] of Object.entries(model.getWeights())) expect(Array.from(a[k]!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    imported.dispose();
    model.dispose();
    // SGD momentum buffers in PyTorch layout: conv1.weight's is Facet's HWIO slot transposed to OIHW
    const ck0 = readTorchFile(readFileSync(join(out, 'checkpoint_gpu_1.pt')), 'gpu1') as Map<string, unknown>;
    const state = (ck0.get('state_optimizer') as Map<string, unknown>).get('state') as Map<number, Map<string, TensorData>>;
    const slotKey = Object.keys(ck.arrays).find((k) => /^opt\/[^/]+\/conv1\.weight\/momentum$/.test(k))!;
    const slot = ck.arrays[slotKey] as Float32Array; // [3, 3, 3, 4] HWIO
    const buf = tensorDataToFloat32(state.get(0)!.get('momentum_buffer')!); // [4, 3, 3, 3] OIHW
    expect(state.get(0)!.get('momentum_buffer')!.shape).toEqual([4, 3, 3, 3]);
    for (let o = 0; o < 4; o++) for (let i = 0; i < 3; i++) for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) {
      expect(buf[((o * 3 + i) * 3 + y) * 3 + x]).toBe(slot[((y * 3 + x) * 3 + i) * 4 + o]);
    }
    // the centres' buffer sits at the index after the backbone parameters; rank 1 holds classes 3 and 4
    const backboneSd = ck0.get('state_dict_backbone') as Map<string, unknown>;
    const pfcIndex = [...backboneSd.keys()].filter((k) => !/running_|num_batches/.test(k)).length;
    const centreBuf = state.get(pfcIndex)!.get('momentum_buffer')!;
    expect(centreBuf.shape).toEqual([2, 16]);
    expect(Array.from(tensorDataToFloat32(centreBuf))).toEqual(Array.from((ck.arrays['objective/momentum'] as Float32Array).subarray(3 * 16, 5 * 16)));

    if (!hasTorch) {
      console.log(`${PY} has no torch: the PyTorch resume check is skipped`);
      return;
    }
    const spec = JSON.stringify({ family: 'iresnet', blocks: [2, 2, 2, 2], width: 0.0625, input_size: 32, embedding_size: 16 });
    const lines = execFileSync(PY, [CHECK, out, spec], { encoding: 'utf8', env, timeout: 120_000 }).trim().split('\n').map((l) => JSON.parse(l));
    const ranks = lines.filter((l) => 'rank' in l);
    expect(ranks.map((l) => l.num_local)).toEqual([[3, 16], [2, 16], [2, 16]]);
    for (const l of ranks) {
      // every trainable backbone parameter (all but IResNet's frozen features.weight) and the centres
      expect(l.momentum_buffers).toBe(l.params - 1);
      expect(l.step_check).toBeLessThan(1e-5); // float32 rounding of the update
      expect(l.buffer_effect).toBeGreaterThan(100 * l.step_check); // what a missing or misplaced buffer would cost
      expect(l.global_step).toBe(3);
      expect(l.last_epoch).toBe(3);
      expect(l.lr).toEqual([0.1, 0.1]);
      expect(l.momentum).toBe(0.9);
    }
    const config = lines.find((l) => 'config' in l).config;
    expect(config).toMatchObject({ network: 'r18', embedding_size: 16, num_classes: 7, margin_list: [1, 0.5, 0], sample_rate: 1, resume: true, save_all_states: true });
    console.log(
      `arcface_torch resume check: ${ranks.length} ranks loaded (weights_only=${ranks[0].weights_only}), strict backbone load, optimizer and scheduler state accepted, ` +
        `${ranks[0].momentum_buffers} momentum buffers used by one SGD step (worst deviation from p − lr·(μ·buf + wd·p): ${Math.max(...ranks.map((l) => l.step_check)).toExponential(1)})`,
    );
  });
});
