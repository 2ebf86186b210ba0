// Export: .pth (PyTorch's zip layout) and safetensors, checked three ways: (1) re-reading gives back the PyTorch
// tensors the backbone was imported from, byte for byte; (2) the safetensors bytes equal those the reference
// library (safetensors.torch.save_file, run by the fixture generator) wrote; (3) where /usr/bin/python3 has torch,
// real PyTorch loads the export with torch.load(weights_only=True) + load_state_dict(strict=True) into the
// arcface_torch module, and its embeddings equal Facet's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '@facet/engine';
import { exportModel, importModel, readStateDictFile, stateDictFromBackbone, writeSafetensors } from '../src/index.js';
import { toIntegers } from '../src/tensor.js';
import { embed, fixture, fixtureImages, manifest, relativeMaxDiff } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'facet-interop-'));
const PY = '/usr/bin/python3';
const CHECK = join(import.meta.dirname, '..', '..', '..', 'tools', 'interop-fixtures', 'check_export.py');

function pythonHasTorch(): boolean {
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore', env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' }, timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}
const HAS_TORCH = pythonHasTorch();

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exportModel', () => {
  for (const [file, model] of [
    ['iresnet18.pth', 'iresnet18'],
    ['mbf.pth', 'mbf'],
    ['vit_t.pth', 'vit'],
  ] as const) {
    it(`${file} → Facet → .pth gives back PyTorch's tensors, names and order (num_batches_tracked as int64)`, async () => {
      const m = manifest.models[model]!;
      const original = (await readStateDictFile(fixture(file))).stateDict;
      const backbone = await importModel(fixture(file), { inputSize: m.input_size });
      const out = join(tmp, `${model}.pth`);
      const r = await exportModel(backbone, out, { format: 'pth', numBatchesTracked: 4 });
      expect(r.bytes).toBe(readFileSync(out).byteLength);
      const back = await readStateDictFile(out);
      expect(back.format).toBe('pth-zip');
      expect([...back.stateDict.keys()]).toEqual([...original.keys()]);
      for (const [name, t] of original) {
        const u = back.stateDict.get(name)!;
        expect(u.dtype, name).toBe(t.dtype);
        expect(u.shape, name).toEqual(t.shape);
        if (name.endsWith('num_batches_tracked')) expect(toIntegers(u)).toEqual(toIntegers(t));
        else expect(Buffer.from(u.data).equals(Buffer.from(t.data)), name).toBe(true);
      }
      if (HAS_TORCH) {
        const images = fixtureImages(m);
        const facet = embed(backbone, images);
        images.dispose();
        const { images: _i, count: _c, embeddings: _e, ...spec0 } = m;
        const spec = JSON.stringify(spec0);
        const emb = join(tmp, `${model}.torch.f32`);
        const stdout = execFileSync(PY, [CHECK, out, spec, fixture(m.images), String(m.count), emb], {
          encoding: 'utf8',
          env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' },
          timeout: 120_000,
        });
        const report = JSON.parse(stdout.trim().split('\n').pop()!) as { keys: number; missing: string[]; unexpected: string[]; weights_only: boolean; num_batches_tracked: number[] };
        expect(report.missing).toEqual([]);
        expect(report.unexpected).toEqual([]);
        expect(report.keys).toBe(original.size);
        expect(report.num_batches_tracked).toEqual([4]);
        const b = readFileSync(emb);
        const rel = relativeMaxDiff(facet, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
        console.log(`${file} exported: torch.load(weights_only=${report.weights_only}) + load_state_dict(strict=True) ok; PyTorch vs Facet ${rel.relative.toExponential(2)}`);
        expect(rel.relative).toBeLessThan(1e-4);
      } else {
        console.log(`${PY} has no torch: the PyTorch load_state_dict(strict=True) check of ${file}'s export is skipped`);
      }
      backbone.dispose();
    });
  }

  it('ONNX goes through @facet/onnx both ways (format from the extension), and gives the same embeddings back', async () => {
    const m = manifest.models.mbf!;
    const backbone = await importModel(fixture('mbf.pth'));
    const out = join(tmp, 'mbf.onnx');
    expect((await exportModel(backbone, out)).format).toBe('onnx');
    let format = '';
    const again = await importModel(out, { onReport: (r) => (format = r.format) });
    expect(format).toBe('onnx');
    expect(again.name).toBe('mobilefacenet');
    const images = fixtureImages(m);
    const r = relativeMaxDiff(embed(again, images), embed(backbone, images));
    images.dispose();
    expect(r.relative).toBeLessThan(1e-5);
    await expect(importModel(out, { network: 'r50' })).rejects.toThrow(/is a mobilefacenet but network r50 was given/);
    again.dispose();
    backbone.dispose();
  });

  it('safetensors export equals the bytes safetensors.torch.save_file wrote for the same state dict', async () => {
    const backbone = await importModel(fixture('ir_tiny_legacy.pth'), { inputSize: 32 });
    const reference = readFileSync(fixture('ir_tiny.safetensors'));
    const ours = writeSafetensors(stateDictFromBackbone(backbone, { numBatchesTracked: 4 }));
    expect(Buffer.from(ours).equals(reference)).toBe(true);
    // exportModel adds Facet's metadata, read back on import (the input side a state dict cannot tell)
    const out = join(tmp, 'tiny.safetensors');
    await exportModel(backbone, out);
    const back = await readStateDictFile(out);
    expect(back.metadata).toEqual({ facet_network: 'iresnet18', facet_input_size: '32' });
    const again = await importModel(out);
    expect(again.inputSize).toBe(32);
    expect(again.options.blocks).toEqual([1, 1, 1, 1]);
    const images = fixtureImages(manifest.models.ir_tiny!);
    expect(relativeMaxDiff(embed(again, images), embed(backbone, images)).diff).toBe(0);
    images.dispose();
    again.dispose();
    backbone.dispose();
  });
});
