// Parameter counts as PyTorch's sum(p.numel() for p in model.parameters()) gives them, derived here by hand
// from insightface's layout (independently of the library's layer code), and FLOPs against insightface's README.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '@facet/engine';
import { createBackbone, describeBackbone, listBackbones, BACKBONE_NAMES } from '../src/index.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

/** iresnet.py: stem conv+BN+PReLU; IBasicBlock bn1, conv1, bn2, prelu, conv2, bn3 (+conv1x1+BN); head bn2, fc, features. */
function iresnetCount(layers: number[], d = 512): number {
  let n = 3 * 3 * 3 * 64 + 2 * 64 + 64;
  let inplanes = 64;
  [64, 128, 256, 512].forEach((planes, s) => {
    for (let i = 0; i < layers[s]!; i++) {
      n += 2 * inplanes + 9 * inplanes * planes + 2 * planes + planes + 9 * planes * planes + 2 * planes;
      if (i === 0) n += inplanes * planes + 2 * planes;
      inplanes = planes;
    }
  });
  return n + 2 * 512 + 512 * 49 * d + d + 2 * d; // features BN1d: frozen weight (still a parameter) + bias
}

/** mobilefacenet.py, blocks (1,4,6,2), scale 2 (insightface's mbf) or 1 (the paper's network). */
function mobileFaceNetCount(d = 512, scale = 2): number {
  const convBlock = (i: number, o: number, k: number, g: number) => (o * (i / g) * k * k) + 2 * o + o;
  const linearBlock = (i: number, o: number, k: number, g: number) => (o * (i / g) * k * k) + 2 * o;
  const depthWise = (i: number, o: number, g: number) => convBlock(i, g, 1, 1) + convBlock(g, g, 3, g) + linearBlock(g, o, 1, 1);
  const [c1, c2] = [64 * scale, 128 * scale];
  return (
    convBlock(3, c1, 3, 1) +
    convBlock(c1, c1, 3, 64) +
    depthWise(c1, c1, 128) + 4 * depthWise(c1, c1, 128) +
    depthWise(c1, c2, 256) + 6 * depthWise(c2, c2, 256) +
    depthWise(c2, c2, 512) + 2 * depthWise(c2, c2, 256) +
    convBlock(c2, 512, 1, 1) +
    linearBlock(512, 512, 7, 512) + 512 * d + 2 * d
  );
}

describe('parameter counts (PyTorch convention, BN running stats counted separately)', () => {
  it('IResNet-18 = 24,025,600 (24.026M) and IResNet-50 = 43,590,848 (43.591M)', () => {
    expect(iresnetCount([2, 2, 2, 2])).toBe(24_025_600);
    expect(iresnetCount([3, 4, 14, 3])).toBe(43_590_848);
    const r18 = describeBackbone('iresnet18');
    const r50 = describeBackbone('iresnet50');
    expect(r18.parameters).toBe(iresnetCount([2, 2, 2, 2]));
    expect(r50.parameters).toBe(iresnetCount([3, 4, 14, 3]));
    expect((r18.parameters / 1e6).toFixed(3)).toBe('24.026');
    expect((r50.parameters / 1e6).toFixed(3)).toBe('43.591');
    // the embedding BN1d's γ is frozen at 1 (requires_grad=False): a parameter, but not trainable
    expect(r18.trainableParameters).toBe(r18.parameters - 512);
    expect(describeBackbone('iresnet100').parameters).toBe(iresnetCount([3, 13, 30, 3]));
    expect(describeBackbone('iresnet200').parameters).toBe(iresnetCount([6, 26, 60, 6]));
  });

  it('MobileFaceNet = 2,059,520 at embedding 512', () => {
    expect(describeBackbone('mobilefacenet').parameters).toBe(mobileFaceNetCount());
    expect(mobileFaceNetCount()).toBe(2_059_520);
  });

  it('original MobileFaceNet (scale 1) = 1,003,136 at 128-d (the paper: 0.99M), 1,200,512 at 512-d', () => {
    expect(mobileFaceNetCount(128, 1)).toBe(1_003_136);
    expect(describeBackbone('mobilefacenet_orig').parameters).toBe(mobileFaceNetCount(128, 1));
    expect(describeBackbone('mobilefacenet_orig', { embeddingSize: 512 }).parameters).toBe(1_200_512);
    expect(mobileFaceNetCount(512, 1)).toBe(1_200_512);
    // a BN folded into the conv before it keeps one bias per channel instead of γ and β; the public 512-d export
    // (faceplugin fr_feature.onnx) holds 1,190,336 floats of weights (+ a 2-element Reshape shape): one fewer per
    // BN channel than Facet's count, and the head's 1×1 conv bias in place of BN1d γ/β
    const bnChannels = describeBackbone('mobilefacenet_orig', { embeddingSize: 512 });
    const net = createBackbone('mobilefacenet_orig', { embeddingSize: 512 });
    const channels = net.batchNorms().reduce((s, l) => s + l.channels, 0);
    net.dispose();
    expect(bnChannels.parameters - channels).toBe(1_190_336);
    // Chen et al. 2018, Table 2: 221 million multiply-adds
    expect(Math.abs(describeBackbone('mobilefacenet_orig').gflops / 2 - 0.221) / 0.221).toBeLessThan(0.01);
  });

  it('an allocated IResNet-18 and MobileFaceNet hold exactly the counted floats', () => {
    for (const name of ['iresnet18', 'mobilefacenet', 'mobilefacenet_orig']) {
      const b = createBackbone(name);
      const size = (t: { size: number }) => t.size;
      const all = Object.values(b.getWeights()).reduce((s, t) => s + size(t), 0);
      const bnBuffers = b.batchNorms().reduce((s, l) => s + 2 * l.channels, 0);
      expect(all).toBe(b.parameterCount() + bnBuffers);
      expect(b.bufferCount()).toBe(bnBuffers);
      expect(b.trainableVariables().reduce((s, v) => s + v.size, 0)).toBe(b.trainableParameterCount());
      b.dispose();
    }
  });

  it('GFLOPs/2 match the multiply-adds insightface reports (README: r18 2.6, r50 6.3, r100 12.1, r200 23.5, mbf 0.45, ViT-T 1.5, ViT-S 5.7)', () => {
    const readme: Record<string, number> = { iresnet18: 2.6, iresnet50: 6.3, iresnet100: 12.1, iresnet200: 23.5, mobilefacenet: 0.45, vit_t: 1.5, vit_s: 5.7 };
    const listed = new Map(listBackbones().map((r) => [r.name, r]));
    expect([...listed.keys()]).toEqual([...BACKBONE_NAMES]);
    for (const [name, gmacs] of Object.entries(readme)) {
      const rel = Math.abs(listed.get(name)!.gflops / 2 - gmacs) / gmacs;
      expect(rel, name).toBeLessThan(0.035);
    }
  });
});
