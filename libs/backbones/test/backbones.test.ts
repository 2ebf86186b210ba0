// Registry, options validation, output shapes of every backbone (tiny variants), determinism.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { BACKBONE_NAMES, createBackbone, describeBackbone, type BackboneOptions } from '../src/index.js';
import { maxAbsDiff, randomImages } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const tiny: BackboneOptions = { width: 0.25, inputSize: 56, embeddingSize: 32 };

describe('registry', () => {
  it('lists the insightface backbones and accepts insightface names as aliases', () => {
    expect(BACKBONE_NAMES).toEqual(['iresnet18', 'iresnet34', 'iresnet50', 'iresnet100', 'iresnet200', 'mobilefacenet', 'mobilefacenet_orig', 'vit_t', 'vit_s']);
    expect(describeBackbone('r50').name).toBe('iresnet50');
    expect(describeBackbone('mbf').name).toBe('mobilefacenet');
  });

  it('mobilefacenet_orig: the paper\'s 128-d embedding by default, 512 (most public exports) as an option', () => {
    expect(describeBackbone('mobilefacenet_orig').options).toEqual({ embeddingSize: 128, inputSize: 112, width: 1, dropout: 0, seed: 2048, blocks: [1, 4, 6, 2] });
    expect(describeBackbone('mobilefacenet_orig', { embeddingSize: 512 }).embeddingSize).toBe(512);
    expect(describeBackbone('mobilefacenet').embeddingSize).toBe(512);
    expect(() => createBackbone('mobilefacenet_orig', { dropout: 0.1 })).toThrow(/mobilefacenet_orig: option dropout is IResNet-only \(mobilefacenet_orig has no dropout layer\)/);
    expect(() => createBackbone('mbf_orig')).toThrow(/available: .*mobilefacenet \(mbf\), mobilefacenet_orig, vit_t/);
  });

  it('mobilefacenet_orig has the paper\'s widths: stem 64, depthwise 64, bottleneck expansions 128/256/512, outputs 64/128/128', () => {
    const net = createBackbone('mobilefacenet_orig');
    const shape = (n: string) => net.getWeights()[n]!.shape;
    expect(shape('layers.0.layers.0.weight')).toEqual([3, 3, 3, 64]);
    expect(shape('layers.1.layers.0.weight')).toEqual([3, 3, 64, 1]); // depthwise: 64 groups of 1
    expect(shape('layers.2.layers.0.layers.0.weight')).toEqual([1, 1, 64, 128]); // (t=2, c=64, s=2)
    expect(shape('layers.2.layers.2.layers.0.weight')).toEqual([1, 1, 128, 64]);
    expect(Object.keys(net.getWeights()).filter((n) => /^layers\.3\.layers\.\d+\.layers\.0\.layers\.0\.weight$/.test(n))).toHaveLength(4);
    expect(shape('layers.4.layers.0.layers.0.weight')).toEqual([1, 1, 64, 256]); // (4, 128, 1, 2)
    expect(shape('layers.4.layers.2.layers.0.weight')).toEqual([1, 1, 256, 128]);
    expect(shape('layers.5.layers.5.layers.0.layers.0.weight')).toEqual([1, 1, 128, 256]); // (2, 128, 6, 1)
    expect(shape('layers.6.layers.0.layers.0.weight')).toEqual([1, 1, 128, 512]); // (4, 128, 1, 2)
    expect(shape('layers.7.layers.1.layers.0.layers.0.weight')).toEqual([1, 1, 128, 256]); // (2, 128, 2, 1)
    expect(shape('conv_sep.layers.0.weight')).toEqual([1, 1, 128, 512]);
    expect(shape('features.layers.0.layers.0.weight')).toEqual([7, 7, 512, 1]); // linear GDC 7×7
    expect(shape('features.layers.2.weight')).toEqual([512, 128]);
    net.dispose();
  });

  it('an unknown name or a bad option gives one clear error naming the option and the fix', () => {
    expect(() => createBackbone('resnet18')).toThrow(/unknown backbone 'resnet18'; available: iresnet18 \(r18\), .*vit_s/);
    expect(() => createBackbone('iresnet18', { width: 0 })).toThrow(/iresnet18: option width must be a number in/);
    expect(() => createBackbone('iresnet18', { inputSize: 8 })).toThrow(/option inputSize must be at least 16/);
    expect(() => createBackbone('iresnet18', { embeddingSize: 1.5 })).toThrow(/embeddingSize must be an integer/);
    expect(() => createBackbone('mobilefacenet', { dropout: 0.2 })).toThrow(/dropout is IResNet-only/);
    expect(() => createBackbone('iresnet18', { depth: 3 })).toThrow(/option depth does not apply to the iresnet family/);
    expect(() => createBackbone('vit_t', { blocks: [1, 1, 1, 1] })).toThrow(/option blocks does not apply to the vit family/);
    expect(() => createBackbone('vit_t', { inputSize: 8 })).toThrow(/inputSize \(8\) must be at least patchSize \(9\)/);
    expect(() => createBackbone('iresnet18', { blocks: [2, 2] })).toThrow(/blocks must be 4 block counts/);
    expect(() => createBackbone('iresnet18', { widht: 0.5 } as BackboneOptions)).toThrow(/unknown option widht/);
  });

  it('resolves options to insightface defaults', () => {
    expect(describeBackbone('iresnet50').options).toEqual({ embeddingSize: 512, inputSize: 112, width: 1, dropout: 0, seed: 2048, blocks: [3, 4, 14, 3] });
    expect(describeBackbone('vit_t').options).toMatchObject({ depth: 12, heads: 8, patchSize: 9, dropPath: 0.1, maskRatio: 0.1 });
  });
});

describe('every backbone (tiny variant: width 0.25, 56×56)', () => {
  for (const name of BACKBONE_NAMES) {
    it(`${name}: [B,56,56,3] → [B,32] in both modes, deterministic, no tensor leak`, () => {
      const net = createBackbone(name, tiny);
      expect(net.name).toBe(name);
      expect(net.embeddingSize).toBe(32);
      expect(net.inputSize).toBe(56);
      const x = randomImages(3, 56, 1);
      const before = tf.memory().numTensors;
      const y1 = net.apply(x);
      const y2 = net.apply(x);
      expect(y1.shape).toEqual([3, 32]);
      // bit-identical (an untrained deep IResNet in inference mode may overflow: insightface's N(0, 0.1) conv
      // init with running stats at their initial 0/1 grows the residual stream block by block, as in PyTorch)
      expect(Array.from(y1.dataSync())).toEqual(Array.from(y2.dataSync()));
      const yt = net.apply(x, { training: true });
      expect(yt.shape).toEqual([3, 32]);
      expect(yt.dataSync().every(Number.isFinite)).toBe(true);
      expect(tf.memory().numTensors).toBe(before + 3);
      tf.dispose([x, y1, y2, yt]);
      net.dispose();
    });
  }

  it('IResNet-18 at full width and 112² gives the 512·7·7 head and a [B,512] embedding', () => {
    const net = createBackbone('iresnet18');
    expect(net.getWeights()['fc.weight']!.shape).toEqual([512 * 7 * 7, 512]);
    const y = net.apply(randomImages(1, 112, 2));
    expect(y.shape).toEqual([1, 512]);
    tf.dispose(y);
    net.dispose();
  });

  it('MobileFaceNet at 112² ends in a 7×7 global depthwise conv; ViT at 112² has 144 tokens', () => {
    const mbf = describeBackbone('mobilefacenet');
    expect(mbf.parameters).toBeGreaterThan(0);
    const m = createBackbone('mobilefacenet', { width: 0.25 });
    expect(m.getWeights()['features.layers.0.layers.0.weight']!.shape).toEqual([7, 7, 128, 1]);
    m.dispose();
    const v = createBackbone('vit_t', { width: 0.25, depth: 1 });
    expect(v.getWeights()['pos_embed']!.shape).toEqual([1, 144, 64]);
    expect(v.getWeights()['feature.0.weight']!.shape).toEqual([144 * 64, 64]);
    v.dispose();
  });

  it('the seed fixes the initialisation; another seed changes it', () => {
    const a = createBackbone('mobilefacenet', { ...tiny, seed: 7 });
    const b = createBackbone('mobilefacenet', { ...tiny, seed: 7 });
    const c = createBackbone('mobilefacenet', { ...tiny, seed: 8 });
    const name = 'layers.2.layers.0.layers.0.weight';
    expect(maxAbsDiff(a.getWeights()[name]!.dataSync(), b.getWeights()[name]!.dataSync())).toBe(0);
    expect(maxAbsDiff(a.getWeights()[name]!.dataSync(), c.getWeights()[name]!.dataSync())).toBeGreaterThan(0);
    [a, b, c].forEach((n) => n.dispose());
  });

  it('initialisation follows insightface: IResNet convs N(0, 0.1), MobileFaceNet kaiming fan_out, PReLU 0.25, BN 1/0', () => {
    const r = createBackbone('iresnet18', { width: 0.5 });
    const w = r.getWeights();
    const std = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.moments(t).variance).dataSync()[0]!);
    expect(std(w['layer2.0.conv1.weight']!)).toBeCloseTo(0.1, 2);
    expect(maxAbsDiff(w['layer1.0.prelu.weight']!.dataSync(), new Float32Array(32).fill(0.25))).toBe(0);
    expect(maxAbsDiff(w['features.weight']!.dataSync(), new Float32Array(512).fill(1))).toBe(0);
    expect(r.trainableVariables()).not.toContain(w['features.weight']);
    // fc keeps PyTorch's Linear default U(±1/√fan_in)
    const fanIn = w['fc.weight']!.shape[0]!;
    expect(tf.tidy(() => tf.max(tf.abs(w['fc.weight']!))).dataSync()[0]!).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    r.dispose();
    const m = createBackbone('mobilefacenet');
    // layers.5 expansion conv: 1×1, 256→256, fan_out = 256 → std √(2/256)
    expect(std(m.getWeights()['layers.5.layers.0.layers.0.layers.0.weight']!)).toBeCloseTo(Math.sqrt(2 / 256), 3);
    m.dispose();
  });

  it('a wrong input gives a clear error', () => {
    const net = createBackbone('iresnet18', tiny);
    const nchw = tf.zeros([2, 3, 56, 56]) as tf.Tensor4D;
    expect(() => net.apply(nchw)).toThrow(/expected a \[batch, 56, 56, 3\] NHWC RGB tensor.*NCHW\?/);
    const one = randomImages(1, 56, 3);
    expect(() => net.apply(one, { training: true })).toThrow(/batch of at least 2/);
    tf.dispose([nchw, one]);
    net.dispose();
    expect(() => net.apply(randomImages(2, 56, 3))).toThrow(/disposed/);
  });
});
