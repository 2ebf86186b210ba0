// Variants of the PyTorch fixtures that other exporters write: initializers in float_data instead of raw_data,
// float16 initializers, initializers also listed as graph inputs (keep_initializers_as_inputs, older exports), and a
// BatchNorm ε other than Facet's 1e-5 (mxnet-converted models use 2e-5). The references are PyTorch's outputs or,
// where the graph's function changes (ε), ONNX Runtime on the same modified file.
import { initEngine, tf } from '@facet/engine';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnnxBackbone, loadOnnxModel } from '../src/index.js';
import { FIXTURES, floats, inputsNhwc, manifest, relToMax } from './helpers.js';

const { onnx } = onnxProto;
const tmp = mkdtempSync(join(os.tmpdir(), 'facet-onnx-variants-'));
beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function rewrite(src: string, dst: string, edit: (m: onnxProto.onnx.ModelProto) => void): string {
  const m = onnx.ModelProto.decode(readFileSync(join(FIXTURES, src)));
  edit(m);
  const file = join(tmp, dst);
  writeFileSync(file, onnx.ModelProto.encode(m).finish());
  return file;
}

function rawFloats(t: onnxProto.onnx.ITensorProto): Float32Array {
  const r = t.rawData!;
  return new Float32Array(r.buffer.slice(r.byteOffset, r.byteOffset + r.byteLength));
}

/** float → IEEE binary16 bits (round to nearest even; normal range is enough here). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) return sign; // flush tiny values (none of consequence in these weights)
  let h = sign | (exp << 10) | (mant >>> 13);
  mant &= 0x1fff;
  if (mant > 0x1000 || (mant === 0x1000 && h & 1)) h++;
  return h;
}

async function facetEmbeddings(file: string): Promise<Float32Array> {
  const { backbone } = await importOnnxBackbone(file);
  const { data, batch, size } = inputsNhwc();
  const y = tf.tidy(() => backbone.apply(tf.tensor4d(data, [batch, size, size, 3]), { training: false }));
  const out = y.dataSync() as Float32Array;
  y.dispose();
  backbone.dispose();
  return out;
}

const mbf = manifest.models.find((m) => m.file === 'mbf_unfolded.onnx')!;

describe('import of exporter variants', () => {
  it('float_data initializers and initializers listed as graph inputs', async () => {
    const file = rewrite(mbf.file, 'float-data.onnx', (m) => {
      for (const t of m.graph!.initializer!) {
        if (t.dataType === 1 && t.rawData?.length) {
          t.floatData = Array.from(rawFloats(t));
          delete (t as { rawData?: Uint8Array }).rawData; // unset (an empty bytes field would still count as raw_data)
        }
      }
      const inputs = m.graph!.initializer!.map((t) => onnx.ValueInfoProto.create({ name: t.name, type: { tensorType: { elemType: t.dataType, shape: { dim: (t.dims ?? []).map((d) => ({ dimValue: d })) } } } }));
      m.graph!.input = [...m.graph!.input!, ...inputs];
    });
    const err = relToMax(await facetEmbeddings(file), floats(mbf.output));
    console.log(`float_data + initializers as inputs: Facet vs PyTorch ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
    const model = await loadOnnxModel(file);
    expect(relToMax(await model.embed(inputsNhwc().data), floats(mbf.output))).toBeLessThan(1e-5);
    await model.dispose();
  });

  it('float16 initializers are widened (agreement at half precision)', async () => {
    const file = rewrite(mbf.file, 'fp16.onnx', (m) => {
      for (const t of m.graph!.initializer!) {
        if (t.dataType !== 1) continue;
        const v = rawFloats(t);
        const raw = new Uint8Array(v.length * 2);
        const view = new DataView(raw.buffer);
        v.forEach((x, i) => view.setUint16(i * 2, toHalf(x), true));
        t.dataType = 10;
        t.rawData = raw;
      }
    });
    const err = relToMax(await facetEmbeddings(file), floats(mbf.output));
    console.log(`fp16 initializers: Facet vs PyTorch fp32 ${err.toExponential(2)}`);
    expect(err).toBeLessThan(2e-2);
    expect(err).toBeGreaterThan(1e-6); // the weights really went through half precision
  });

  it('a BatchNorm ε other than 1e-5 is absorbed into the running variance', async () => {
    const file = rewrite(mbf.file, 'eps.onnx', (m) => {
      for (const n of m.graph!.node!) {
        if (n.opType !== 'BatchNormalization') continue;
        const a = n.attribute!.find((x) => x.name === 'epsilon')!;
        a.f = 0.05;
      }
    });
    const model = await loadOnnxModel(file);
    const ref = await model.embed(inputsNhwc().data);
    await model.dispose();
    expect(relToMax(ref, floats(mbf.output))).toBeGreaterThan(1e-3); // ε matters to the output
    const err = relToMax(await facetEmbeddings(file), ref);
    console.log(`BN ε = 0.05: Facet vs ONNX Runtime ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });
});

describe('the embedding BatchNorm1d folded into the Gemm (as graph optimisers write it)', () => {
  for (const src of ['iresnet_folded.onnx', 'mbf_folded.onnx']) {
    it(`${src} with its last BatchNormalization folded into the Gemm still maps and equals PyTorch`, async () => {
      const info = manifest.models.find((m) => m.file === src)!;
      const file = rewrite(src, `gemm-bn-${src}`, (m) => {
        const g = m.graph!;
        const nodes = g.node!;
        const bn = nodes[nodes.length - 1]!;
        const gemm = nodes.find((n) => n.output![0] === bn.input![0])!;
        const get = (name: string) => g.initializer!.find((t) => t.name === name)!;
        const [gamma, beta, mean, variance] = bn.input!.slice(1).map((n) => rawFloats(get(n)));
        const eps = bn.attribute!.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
        const scale = gamma!.map((v, o) => v / Math.sqrt(variance![o]! + eps));
        const w = get(gemm.input![1]!);
        const transB = Number(gemm.attribute!.find((a) => a.name === 'transB')?.i ?? 0) === 1; // int64: a Long under protobufjs
        const wv = rawFloats(w).slice();
        const [d0, d1] = w.dims!.map(Number) as [number, number];
        for (let r = 0; r < d0; r++) for (let c = 0; c < d1; c++) wv[r * d1 + c]! *= scale[transB ? r : c]!;
        w.rawData = new Uint8Array(wv.buffer);
        const bias = gemm.input![2] ? rawFloats(get(gemm.input![2])) : new Float32Array(scale.length);
        const folded = bias.map((b, o) => (b - mean![o]!) * scale[o]! + beta![o]!);
        g.initializer!.push(onnx.TensorProto.create({ name: 'folded_bias', dims: [folded.length], dataType: 1, rawData: new Uint8Array(folded.buffer) }));
        gemm.opType = 'Gemm';
        gemm.input = [gemm.input![0]!, gemm.input![1]!, 'folded_bias'];
        gemm.output = bn.output;
        nodes.pop();
      });
      const want = floats(info.output);
      const model = await loadOnnxModel(file);
      const ortErr = relToMax(await model.embed(inputsNhwc().data), want);
      await model.dispose();
      expect(ortErr).toBeLessThan(1e-5); // the rewrite itself is right
      const err = relToMax(await facetEmbeddings(file), want);
      console.log(`${src}, BN1d folded into the Gemm: Facet vs PyTorch ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-4);
    });
  }
});

describe('graphs that normalise their own input (mxnet conversions: Sub 127.5, Mul 1/128)', () => {
  /** mbf_folded with `Sub(mean)` and `Mul(scale)` nodes inserted between the graph input and the stem conv. */
  function withNormalisation(dst: string, mean: number, scale: number): string {
    return rewrite('mbf_folded.onnx', dst, (m) => {
      const g = m.graph!;
      const input = g.input![0]!.name!;
      g.initializer!.push(onnx.TensorProto.create({ name: 'norm_mean', dims: [], dataType: 1, floatData: [mean] }));
      g.initializer!.push(onnx.TensorProto.create({ name: 'norm_scale', dims: [1, 3, 1, 1], dataType: 1, floatData: [scale, scale, scale] }));
      for (const n of g.node!) n.input = n.input!.map((i) => (i === input ? 'normalised' : i));
      g.node!.unshift(
        onnx.NodeProto.create({ opType: 'Sub', input: [input, 'norm_mean'], output: ['centred'], name: '_minusscalar0' }),
        onnx.NodeProto.create({ opType: 'Mul', input: ['centred', 'norm_scale'], output: ['normalised'], name: '_mulscalar0' }),
      );
    });
  }
  const want = floats('mbf.out.bin');

  it('(x − 127.5)/127.5 inside the graph: ONNX Runtime is fed pixels, the importer drops the nodes; both equal PyTorch', async () => {
    const file = withNormalisation('norm-127.onnx', 127.5, 1 / 127.5);
    const model = await loadOnnxModel(file);
    expect(model.input).toBe('pixels');
    const ortErr = relToMax(await model.embed(inputsNhwc().data), want);
    await model.dispose();
    expect(ortErr).toBeLessThan(1e-5);
    const { detectedBecause } = await importOnnxBackbone(file).then((r) => (r.backbone.dispose(), r));
    expect(detectedBecause).toMatch(/input normalisation nodes \(Sub, Mul: mean 127.5, scale 1\/1\/1 of Facet's\) folded into the stem conv/);
    const err = relToMax(await facetEmbeddings(file), want);
    console.log(`Sub 127.5, Mul 1/127.5 in the graph: ORT ${ortErr.toExponential(2)}, Facet ${err.toExponential(2)} vs PyTorch`);
    expect(err).toBeLessThan(1e-4);
  });

  it('(x − 127.5)·0.0078125 folds into the stem as a scale of 127.5/128; equals ONNX Runtime on the same file', async () => {
    const file = withNormalisation('norm-128.onnx', 127.5, 0.0078125);
    const model = await loadOnnxModel(file);
    const ref = await model.embed(inputsNhwc().data);
    await model.dispose();
    expect(relToMax(ref, want)).toBeGreaterThan(1e-4); // the scale changed the function
    const err = relToMax(await facetEmbeddings(file), ref);
    console.log(`Sub 127.5, Mul 1/128 in the graph: Facet vs ORT ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  it('another mean is refused for mapping (the zero padding would differ) and still runs in ONNX Runtime', async () => {
    const file = withNormalisation('norm-100.onnx', 100, 1 / 127.5);
    await expect(importOnnxBackbone(file)).rejects.toThrow(/norm-100\.onnx: the graph normalises its input as \(x − \[100, 100, 100\]\).*only a mean of 127\.5 maps exactly/);
    const model = await loadOnnxModel(file);
    expect((await model.embed(inputsNhwc().data)).length).toBe(3 * 32);
    await model.dispose();
    const plain = await loadOnnxModel(file, { input: 'normalized' });
    expect(plain.input).toBe('normalized');
    await plain.dispose();
  });
});

describe('ONNX Runtime model details', () => {
  it('a symbolic embedding width is measured with one probe run', async () => {
    const file = rewrite('mbf_folded.onnx', 'symbolic-out.onnx', (m) => {
      const dims = m.graph!.output![0]!.type!.tensorType!.shape!.dim!;
      dims[1] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'D' });
    });
    const model = await loadOnnxModel(file);
    expect(model.embeddingSize).toBe(32);
    expect(relToMax(await model.embed(inputsNhwc().data), floats('mbf.out.bin'))).toBeLessThan(1e-5);
    await model.dispose();
  });
});
