// The original MobileFaceNet (Chen et al. 2018) as PyTorch exports it with BatchNorm folded (torch.onnx.export,
// eval, do_constant_folding=True): a dynamic-batch file with the usual Flatten → MatMul → BN1d head, and a static
// batch-1 file whose embedding layer is a 1×1 Conv (+ folded bias) → Reshape, as public pretrained files are written.
// References: PyTorch's eval embeddings (tools/mobilefacenet-fixtures/generate.py) and ONNX Runtime on the same file.
import { initEngine, tf } from '@facet/engine';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, importOnnxBackbone, loadOnnxModel, readOnnxGraph } from '../src/index.js';
import { FIXTURES, relToMax } from './helpers.js';

const { onnx } = onnxProto;
const DIR = join(FIXTURES, 'mfn_orig');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as {
  width: number;
  inputSize: number;
  embeddingSize: number;
  count: number;
  parameters: number;
  onnx: { dynamic: string; static1ConvHead: string };
  tiny: { onnx: string; width: number; inputSize: number; embeddingSize: number; images: string; embeddings: string };
};
const S = manifest.inputSize;
const tmp = mkdtempSync(join(os.tmpdir(), 'facet-onnx-mfn-orig-'));

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The committed uint8 NHWC images, normalised as PyTorch did: (p − 127.5)/127.5. */
function images(): Float32Array {
  const u8 = readFileSync(join(DIR, 'images.u8'));
  return Float32Array.from(u8, (p) => (p - 127.5) / 127.5);
}

function pytorch(): Float32Array {
  const b = readFileSync(join(DIR, 'embeddings.f32'));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function facetEmbed(backbone: { apply(x: tf.Tensor4D): tf.Tensor2D }): Float32Array {
  const y = tf.tidy(() => backbone.apply(tf.tensor4d(images(), [manifest.count, S, S, 3])));
  const out = y.dataSync() as Float32Array;
  y.dispose();
  return out;
}

const FILES = [
  { file: manifest.onnx.dynamic, staticBatch: undefined, head: /Linear → BN1d/, bnNodes: 1 },
  { file: manifest.onnx.static1ConvHead, staticBatch: 1, head: /1×1 Conv → Reshape/, bnNodes: 0 },
] as const;

describe('original MobileFaceNet, BN-folded PyTorch exports', () => {
  for (const f of FILES) {
    it(`${f.file}: recognised as mobilefacenet_orig, Facet = PyTorch = ONNX Runtime within 1e-4`, async () => {
      const path = join(DIR, f.file);
      const g = await readOnnxGraph(path);
      // the exporter folded every 2-D BatchNorm into its conv (only the dynamic file's BN1d after the MatMul stays)
      expect(g.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(f.bnNodes);
      const before = tf.memory().numTensors;
      const r = await importOnnxBackbone(path);
      try {
        expect(r.network).toEqual({ name: 'mobilefacenet_orig', options: { inputSize: S, width: manifest.width, embeddingSize: manifest.embeddingSize, blocks: [1, 4, 6, 2] } });
        expect(r.backbone.name).toBe('mobilefacenet_orig');
        expect(r.folded).toBe(true);
        expect(r.detectedBecause).toMatch(/^original MobileFaceNet \(Chen et al\. 2018; get_mbf scale 1\): 3×3 stride-2 stem of 12 channels \(width 0\.1875\), depthwise 3×3 layers\.1, blocks \[1,4,6,2\]/);
        expect(r.detectedBecause).toMatch(f.head);
        expect(r.detectedBecause).toMatch(/BatchNorm folded into conv biases/);
        // PyTorch's sum(p.numel() for p in model.parameters()) of the module before export
        expect(r.backbone.parameterCount()).toBe(manifest.parameters);
        const facet = facetEmbed(r.backbone);
        const want = pytorch();
        const errTorch = relToMax(facet, want);
        const model = await loadOnnxModel(path);
        let errOrt: number;
        try {
          expect(model.staticBatch).toBe(f.staticBatch);
          expect(model.embeddingSize).toBe(manifest.embeddingSize);
          // a static batch-1 graph runs image by image; three images in one call
          const ort = await model.embed(images(), manifest.count);
          expect(relToMax(ort, want)).toBeLessThan(1e-5);
          errOrt = relToMax(facet, ort);
        } finally {
          await model.dispose();
        }
        console.log(`${f.file}: Facet (tfjs cpu) vs PyTorch ${errTorch.toExponential(2)}, vs ONNX Runtime ${errOrt.toExponential(2)} (max |Δ| / max |y|)`);
        expect(errTorch).toBeLessThan(1e-4);
        expect(errOrt).toBeLessThan(1e-4);
      } finally {
        r.backbone.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('unfolded (every BatchNormalization kept, the head\'s BN2d after its 1×1 Conv included): mapped exactly too', async () => {
    const t = manifest.tiny;
    const r = await importOnnxBackbone(join(DIR, t.onnx));
    try {
      expect(r.network).toEqual({ name: 'mobilefacenet_orig', options: { inputSize: t.inputSize, width: t.width, embeddingSize: t.embeddingSize, blocks: [1, 4, 6, 2] } });
      expect(r.folded).toBe(false);
      expect(r.detectedBecause).toMatch(/1×1 Conv → Reshape .*BatchNorm unfolded \(50 BatchNormalization nodes\)/);
      const u8 = readFileSync(join(DIR, t.images));
      const y = tf.tidy(() => r.backbone.apply(tf.tensor4d(Float32Array.from(u8, (p) => (p - 127.5) / 127.5), [manifest.count, t.inputSize, t.inputSize, 3])));
      const b = readFileSync(join(DIR, t.embeddings));
      const err = relToMax(y.dataSync(), new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
      y.dispose();
      console.log(`${t.onnx}: Facet (tfjs cpu) vs PyTorch ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    } finally {
      r.backbone.dispose();
    }
  });

  it('the imported network exports to ONNX again (unfolded BNs) and ONNX Runtime reproduces PyTorch', async () => {
    const { backbone } = await importOnnxBackbone(join(DIR, manifest.onnx.static1ConvHead));
    const file = join(tmp, 'again.onnx');
    await exportOnnx(backbone, file);
    backbone.dispose();
    const back = await importOnnxBackbone(file);
    expect(back.network.name).toBe('mobilefacenet_orig');
    back.backbone.dispose();
    const model = await loadOnnxModel(file);
    const err = relToMax(await model.embed(images(), manifest.count), pytorch());
    await model.dispose();
    expect(err).toBeLessThan(1e-4);
  });
});

function rewrite(src: string, dst: string, edit: (m: onnxProto.onnx.ModelProto) => void): string {
  const m = onnx.ModelProto.decode(readFileSync(join(DIR, src)));
  edit(m);
  const file = join(tmp, dst);
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return file;
}

async function importError(file: string): Promise<string> {
  return importOnnxBackbone(file).then(
    (r) => {
      r.backbone.dispose();
      return '';
    },
    (e: Error) => e.message,
  );
}

describe('original MobileFaceNet: geometry mismatches are named', () => {
  it('layers.1 neither depthwise (scale 1) nor 2 channels per group (scale 2)', async () => {
    const file = rewrite(manifest.onnx.static1ConvHead, 'groups.onnx', (m) => {
      const conv = m.graph!.node!.filter((n) => n.opType === 'Conv')[1]!;
      conv.attribute!.find((a) => a.name === 'group')!.i = 4;
    });
    const msg = await importError(file);
    expect(msg).toMatch(/graph is not an IResNet\/MobileFaceNet \(Facet cannot train or fine-tune it\): as MobileFaceNet, node \d+ \(Conv '[^']*'\) is Conv where a 3×3 Conv on the 12-channel stem with 12 groups \(depthwise: the original MobileFaceNet, get_mbf scale 1\) or 6 groups \(get_mbf scale 2\) — it has 4 \(layers\.1\) was expected/);
    expect(msg.split('\n')).toHaveLength(1);
  });

  it('the embedding head: a Reshape to the wrong width, a strided 1×1 Conv', async () => {
    const reshape = rewrite(manifest.onnx.static1ConvHead, 'reshape.onnx', (m) => {
      const node = m.graph!.node!.find((n) => n.opType === 'Reshape')!;
      // torch 1.13 writes the target shape as a Constant node (faceplugin's file as an initializer)
      const init = m.graph!.initializer!.find((t) => t.name === node.input![1]) ?? m.graph!.node!.find((n) => n.output![0] === node.input![1])!.attribute![0]!.t!;
      init.int64Data = [];
      init.rawData = new Uint8Array(new BigInt64Array([1n, 64n]).buffer);
    });
    expect(await importError(reshape)).toMatch(/as MobileFaceNet, node \d+ \(Reshape '[^']*'\) is Reshape where a Reshape to \[N, 128\] \(it reshapes to \[1, 64\]\) was expected/);
    const stride = rewrite(manifest.onnx.static1ConvHead, 'head-stride.onnx', (m) => {
      const convs = m.graph!.node!.filter((n) => n.opType === 'Conv');
      convs[convs.length - 1]!.attribute!.find((a) => a.name === 'strides')!.ints = [2, 2];
    });
    expect(await importError(stride)).toMatch(/as MobileFaceNet, node \d+ \(Conv '[^']*'\) is a 1×1 Conv, stride 2, padding 0 on 96 channels where a 1×1 Conv, stride 1, padding 0 \(features\.layers\.2\.conv\) on 96 channels was expected/);
  });
});
