// The original MobileFaceNet (Chen et al. 2018) as a .pth in TreB1eN/InsightFace_Pytorch's naming, written by real
// PyTorch (tools/mobilefacenet-fixtures/generate.py: width 0.1875, 112², 128-d, calibrated BN): Facet's import must
// give PyTorch's eval embeddings; the renamed network goes back out in get_mbf's naming and comes in again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { exportModel, importModel, readStateDictFile, writeTorchStateDict, type ImportReport, type StateDict } from '../src/index.js';
import { facetNameOf, treb1enNameOf } from '../src/treb1en.js';
import { embed, fixture, readF32, relativeMaxDiff } from './helpers.js';

const DIR = 'mfn_orig';
const manifest = JSON.parse(readFileSync(fixture(`${DIR}/manifest.json`), 'utf8')) as { width: number; inputSize: number; embeddingSize: number; count: number; parameters: number; pth: string };
const PTH = fixture(`${DIR}/${manifest.pth}`);
const tmp = mkdtempSync(join(os.tmpdir(), 'facet-interop-mfn-orig-'));
const PY = '/usr/bin/python3';
const CHECK = join(import.meta.dirname, '..', '..', '..', 'tools', 'interop-fixtures', 'check_export.py');
const PY_ENV = { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' };
const HAS_TORCH = (() => {
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore', env: PY_ENV, timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function images(): tf.Tensor4D {
  const u8 = readFileSync(fixture(`${DIR}/images.u8`));
  const S = manifest.inputSize;
  return tf.tensor4d(Float32Array.from(u8, (v) => (v - 127.5) / 127.5), [manifest.count, S, S, 3]);
}

async function importError(file: string): Promise<string> {
  return importModel(file).then(
    (b) => {
      b.dispose();
      return '';
    },
    (e: Error) => e.message,
  );
}

describe('original MobileFaceNet in TreB1eN/InsightFace_Pytorch naming (.pth)', () => {
  it('detected as mobilefacenet_orig (width, 128-d, 112² from the 7×7 GDC) and equal to PyTorch within 1e-4', async () => {
    let report: ImportReport | undefined;
    const backbone = await importModel(PTH, { onReport: (r) => (report = r) });
    try {
      expect(backbone.name).toBe('mobilefacenet_orig');
      expect(backbone.options).toMatchObject({ width: manifest.width, embeddingSize: manifest.embeddingSize, inputSize: 112, blocks: [1, 4, 6, 2] });
      expect(report!.reasons[0]).toMatch(/^TreB1eN\/InsightFace_Pytorch MobileFaceNet names/);
      expect(report!.reasons.join('\n')).toMatch(/original MobileFaceNet \(Chen et al\. 2018; get_mbf scale 1\): a 12-channel stem = 64·width; blocks \[1,4,6,2\] \(the paper's\)/);
      expect(report!.reasons.join('\n')).toMatch(/input 112×112: the final map is 7×7/);
      expect(report!.numBatchesTracked).toBe(4); // the generator's four calibration passes
      // PyTorch's sum(p.numel() for p in model.parameters()), BN running statistics excluded
      expect(backbone.parameterCount()).toBe(manifest.parameters);
      const x = images();
      const before = tf.memory().numTensors;
      const got = embed(backbone, x);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      const r = relativeMaxDiff(got, readF32(`${DIR}/embeddings.f32`));
      console.log(`${manifest.pth}: max |Facet − PyTorch| ${r.diff.toExponential(2)} of largest ${r.largest.toFixed(3)} → ${r.relative.toExponential(2)}`);
      expect(r.relative).toBeLessThan(1e-4);

      // out in get_mbf's naming (the names Facet keeps) and in again: the same function
      const out = join(tmp, 'again.pth');
      await exportModel(backbone, out);
      const again = await importModel(out);
      expect(again.name).toBe('mobilefacenet_orig');
      const y = images();
      const back = embed(again, y);
      y.dispose();
      again.dispose();
      expect(relativeMaxDiff(back, got).relative).toBeLessThan(1e-6);
      if (HAS_TORCH) {
        // the export loads strictly into arcface_torch's get_mbf at scale 1 and PyTorch gives the same embeddings
        const spec = { family: 'mobilefacenet', scale: 1, blocks: [1, 4, 6, 2], width: manifest.width, input_size: manifest.inputSize, embedding_size: manifest.embeddingSize };
        const emb = join(tmp, 'again.torch.f32');
        const stdout = execFileSync(PY, [CHECK, out, JSON.stringify(spec), fixture(`${DIR}/images.u8`), String(manifest.count), emb], { encoding: 'utf8', env: PY_ENV, timeout: 120_000 });
        const report = JSON.parse(stdout.trim().split('\n').pop()!) as { missing: string[]; unexpected: string[] };
        expect([report.missing, report.unexpected]).toEqual([[], []]);
        const b = readFileSync(emb);
        const rel = relativeMaxDiff(got, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
        console.log(`exported mobilefacenet_orig → get_mbf(scale=1).load_state_dict(strict=True): PyTorch vs Facet ${rel.relative.toExponential(2)}`);
        expect(rel.relative).toBeLessThan(1e-4);
      } else {
        console.log(`${PY} has no torch: the PyTorch load_state_dict(strict=True) check of the export is skipped`);
      }
    } finally {
      backbone.dispose();
    }
  });

  it('every TreB1eN tensor name maps to a distinct Facet name of mobilefacenet_orig', async () => {
    const { stateDict } = await readStateDictFile(PTH);
    const names = [...stateDict.keys()].filter((n) => !n.endsWith('num_batches_tracked'));
    const mapped = names.map(facetNameOf);
    expect(mapped.filter((n) => n === undefined)).toEqual([]);
    expect(new Set(mapped).size).toBe(names.length);
    // and back: the inverse names every tensor as the file does
    expect(mapped.map((n) => treb1enNameOf(n!))).toEqual(names);
    expect(facetNameOf('conv_4.model.5.conv_dw.prelu.weight')).toBe('layers.5.layers.5.layers.1.layers.2.weight');
    expect(facetNameOf('conv_6_dw.bn.running_var')).toBe('features.layers.0.layers.1.running_var');
    expect(facetNameOf('linear.weight')).toBe('features.layers.2.weight');
    expect(facetNameOf('conv_3.conv.weight')).toBeUndefined(); // a Residual holds only model.i
  });

  it('a wrong shape, a missing and an unexpected tensor are named in the file\'s own naming', async () => {
    const sd: StateDict = new Map((await readStateDictFile(PTH)).stateDict);
    const t = sd.get('conv_34.project.conv.weight')!; // [24, 48, 1, 1]
    sd.set('conv_34.project.conv.weight', { dtype: 'F32', shape: [24, 24, 1, 1], data: t.data.slice(0, 24 * 24 * 4) });
    sd.delete('conv_5.model.1.conv.prelu.weight');
    sd.set('linear.bias', { dtype: 'F32', shape: [128], data: new Uint8Array(128 * 4) });
    const file = join(tmp, 'broken.pth');
    writeFileSync(file, writeTorchStateDict(sd));
    const m = await importError(file);
    expect(m).toMatch(/does not fit mobilefacenet_orig .*wrong shapes: conv_34\.project\.conv\.weight is \[24,24,1,1\], mobilefacenet_orig needs \[24,48,1,1\]/);
    expect(m).toMatch(/missing: conv_5\.model\.1\.conv\.prelu\.weight/);
    expect(m).toMatch(/not part of mobilefacenet_orig: linear\.bias/);
    expect(m.split('\n')).toHaveLength(1);
  });

  it('a get_mbf stem that is neither 1 nor 2 × 64·width is refused naming both scales', async () => {
    const { stateDict } = await readStateDictFile(PTH);
    const sd: StateDict = new Map(stateDict);
    sd.set('conv1.conv.weight', { dtype: 'F32', shape: [18, 3, 3, 3], data: new Uint8Array(18 * 27 * 4) }); // was [12, 3, 3, 3]
    const file = join(tmp, 'stem.pth');
    writeFileSync(file, writeTorchStateDict(sd));
    expect(await importError(file)).toMatch(/layers\.0 has 18 channels where get_mbf gives 12 \(scale 1, the original MobileFaceNet\) or 24 \(scale 2, insightface's mbf\)/);
  });
});
