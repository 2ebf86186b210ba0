import { createBackbone, type Backbone } from '@facet/backbones';
import { initEngine, tf } from '@facet/engine';
import { MARGIN_PRESETS, marginLoss } from '@facet/heads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureFeatures,
  featureMapShape,
  fitRecognizabilityHead,
  predictRecognizability,
  recognizabilityIndex,
  RecognizabilityTraining,
  smoothL1Loss,
  unrecognizableBatch,
} from '../src/index.js';

const S = 32;
const D = 16;
const C = 4;
const B = 8;
let backbone: Backbone;
let protos: tf.Variable;
let images: Float32Array;
const labels = Int32Array.from({ length: B }, (_, i) => i % C);

function rand(n: number, seed: number) {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  backbone = createBackbone('iresnet18', { width: 0.125, inputSize: S, embeddingSize: D, blocks: [1, 1, 1, 1], seed: 1 });
  protos = tf.variable(tf.tensor2d(rand(C * D, 5), [C, D]), true, 'test/prototypes');
  images = rand(B * S * S * 3, 9);
});
afterAll(() => {
  backbone.dispose();
  protos.dispose();
});

const unit = (v: ArrayLike<number>) => {
  const n = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  return Array.from(v, (x) => x / n);
};
const smoothL1 = (e: number, beta: number) => (Math.abs(e) < beta ? (0.5 * e * e) / beta : Math.abs(e) - 0.5 * beta);

/** Inference embeddings [B, D] of the test images (host). */
function hostEmbeddings(): Float32Array {
  return tf.tidy(() => backbone.apply(tf.tensor4d(images, [B, S, S, 3]), { training: false }).dataSync() as Float32Array);
}

describe('RecognizabilityTraining', () => {
  it('finds the last feature map through the BatchNorm hook', () => {
    expect(featureMapShape(backbone)).toEqual([2, 2, 64]);
  });

  it('RI regression: the target is the host RI, the loss a float64 Smooth-L1, the bias gradient its closed form', () => {
    const emb = hostEmbeddings();
    const center = unit(rand(D, 77));
    const t = new RecognizabilityTraining({ embeddingSize: D, diversionWeight: 0, attentionWeight: 0, headDropout: 0, smoothL1Beta: 0.5 });
    t.setUiCenter(center);
    const embT = tf.tensor2d(emb, [B, D]);
    const { value, grads } = tf.variableGrads(() => t.loss({ embeddings: embT, labels, prototypes: protos }), t.variables());
    const ri = recognizabilityIndex(emb, labels, protos.dataSync(), center).index;
    const pred = predictRecognizability(t.head.toJSON(), emb);
    const want = ri.reduce((s, x, i) => s + smoothL1(pred[i]! - x, 0.5), 0) / B;
    expect(value.dataSync()[0]).toBeCloseTo(want, 5);
    expect(t.lastParts()!.meanIndex).toBeCloseTo(ri.reduce((a, b) => a + b) / B, 5);
    const dBias = ri.reduce((s, x, i) => s + Math.max(-1, Math.min(1, (pred[i]! - x) / 0.5)), 0) / B;
    expect(grads[t.head.bias.name]!.dataSync()[0]).toBeCloseTo(dBias, 5);
    tf.dispose([value, embT, ...Object.values(grads)]);
    t.dispose();
  });

  it('index diversion matches a float64 reference in both readings', () => {
    const emb = hostEmbeddings();
    const center = unit(rand(D, 78));
    const ri = recognizabilityIndex(emb, labels, protos.dataSync(), center).index;
    const embT = tf.tensor2d(emb, [B, D]);
    for (const diversion of ['embedding', 'index'] as const) {
      const t = new RecognizabilityTraining({ embeddingSize: D, regressionWeight: 0, attentionWeight: 0, headDropout: 0, margin: 0.4, diversion });
      // μ_UI: the radius for 'embedding', the UI images' mean ξ̂ for 'index'
      t.setUiCenter(center, { radius: 0.7, uiIndex: 0.1 });
      const loss = t.loss({ embeddings: embT, labels, prototypes: protos });
      const pred = predictRecognizability(t.head.toJSON(), emb);
      let num = 0;
      let den = 0;
      for (let i = 0; i < B; i++) {
        const v = unit(emb.subarray(i * D, (i + 1) * D));
        const d = diversion === 'embedding' ? 1 - v.reduce((s, x, k) => s + x * center[k]!, 0) : pred[i]!;
        const mu = diversion === 'embedding' ? 0.7 : 0.1;
        num += (1 - ri[i]!) * Math.max(0, mu + 0.4 - d);
        den += 1 - ri[i]!;
      }
      expect(num).toBeGreaterThan(0); // the hinge is active somewhere, so the check means something
      expect(loss.dataSync()[0]).toBeCloseTo(num / den, 5);
      loss.dispose();
      t.dispose();
    }
    embT.dispose();
  });

  it('the attention loss is ‖v̂_attn − normalize(v̂ − (v̂·f)f)‖² with v_attn from a float64 forward of the module', () => {
    const [h, w, c] = featureMapShape(backbone);
    const center = unit(rand(D, 79));
    const t = new RecognizabilityTraining({ embeddingSize: D, featureChannels: c, regressionWeight: 0, diversionWeight: 0, attentionHidden: 5 });
    t.setUiCenter(center);
    const { emb, map } = tf.tidy(() => {
      const cap = captureFeatures();
      const e = backbone.apply(tf.tensor4d(images, [B, S, S, 3]), { training: false, onBatchNorm: cap.onBatchNorm });
      return { emb: e.dataSync() as Float32Array, map: cap.featureMap()!.dataSync() as Float32Array };
    });
    const loss = t.loss({ embeddings: tf.tensor2d(emb, [B, D]), labels, prototypes: protos, featureMap: tf.tensor4d(map, [B, h, w, c]) });
    const [w1, b1, w2, wo] = t.attention!.variables().map((v) => Array.from(v.dataSync()));
    const H = 5;
    let want = 0;
    for (let i = 0; i < B; i++) {
      const f = (p: number, k: number) => map[((i * h * w + p) * c) + k]!;
      const scores = Array.from({ length: h * w }, (_, p) => {
        let s = 0;
        for (let j = 0; j < H; j++) {
          let z = b1![j]!;
          for (let k = 0; k < c; k++) z += f(p, k) * w1![k * H + j]!;
          s += Math.max(0, z) * w2![j]!;
        }
        return s;
      });
      const mx = Math.max(...scores);
      const ex = scores.map((s) => Math.exp(s - mx));
      const a = ex.map((e) => e / ex.reduce((x, y) => x + y));
      const pooled = Array.from({ length: c }, (_, k) => a.reduce((s, ap, p) => s + ap * f(p, k), 0));
      const vAttn = unit(Array.from({ length: D }, (_, o) => pooled.reduce((s, x, k) => s + x * wo![k * D + o]!, 0)));
      const v = unit(emb.subarray(i * D, (i + 1) * D));
      const cu = v.reduce((s, x, k) => s + x * center[k]!, 0);
      const away = unit(v.map((x, k) => x - cu * center[k]!));
      want += vAttn.reduce((s, x, k) => s + (x - away[k]!) ** 2, 0) / B;
    }
    expect(loss.dataSync()[0]).toBeCloseTo(want, 4);
    tf.dispose(loss);
    t.dispose();
  });

  it('a full step (ArcFace + RI + ID + attention, UI rows in the batch) trains every variable on wasm without leaking', () => {
    const [, , c] = featureMapShape(backbone);
    const t = new RecognizabilityTraining({ embeddingSize: D, featureChannels: c, uiImagesPerBatch: 4 });
    const vars = [...backbone.trainableVariables(), protos, ...t.variables()];
    const step = (k: number) => {
      const ui = unrecognizableBatch(images, S, t.options.uiImagesPerBatch, k);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const cap = captureFeatures();
            const x = tf.concat([tf.tensor4d(images, [B, S, S, 3]), tf.tensor4d(ui, [4, S, S, 3])]) as tf.Tensor4D;
            const all = backbone.apply(x, { training: true, onBatchNorm: cap.onBatchNorm });
            const emb = tf.slice(all, [0, 0], [B, D]) as tf.Tensor2D;
            const uiEmb = tf.slice(all, [B, 0], [4, D]) as tf.Tensor2D;
            const cls = marginLoss(emb, protos as tf.Variable<tf.Rank.R2>, tf.tensor1d(labels, 'int32'), { ...MARGIN_PRESETS.arcface, s: 16 });
            return tf.add(cls, t.loss({ embeddings: emb, labels, prototypes: protos, uiEmbeddings: uiEmb, featureMap: cap.featureMap()! })) as tf.Scalar;
          }),
        vars,
      );
      const norms = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.tidy(() => tf.norm(g).dataSync()[0]!)]));
      tf.tidy(() => vars.forEach((v) => grads[v.name] && v.assign(tf.sub(v, tf.mul(0.01, grads[v.name]!)))));
      t.afterStep();
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return { loss, norms };
    };
    const first = step(0);
    expect(Number.isFinite(first.loss)).toBe(true);
    for (const v of t.variables()) expect(first.norms[v.name], v.name).toBeGreaterThan(0);
    expect(first.norms[backbone.trainableVariables()[0]!.name]).toBeGreaterThan(0);
    for (const n of Object.values(first.norms)) expect(Number.isFinite(n)).toBe(true);
    const center = t.uiCenter()!;
    expect(Math.hypot(...center)).toBeCloseTo(1, 5);
    expect(t.lastParts()!.meanUiCosUi!).toBeGreaterThan(t.lastParts()!.meanCosUi); // UI rows sit nearer their centre
    const before = tf.memory().numTensors;
    step(1);
    step(2);
    expect(tf.memory().numTensors).toBe(before);
    // the EMA moved the centre a little, and a state round trip restores it
    const moved = t.uiCenter()!;
    expect(moved.some((x, k) => x !== center[k])).toBe(true);
    const t2 = new RecognizabilityTraining({ embeddingSize: D, attentionWeight: 0, seed: 3 });
    t2.setState(t.getState());
    expect(Array.from(t2.uiCenter()!)).toEqual(Array.from(moved).map((x) => expect.closeTo(x, 6)));
    const q = t.qualityModel();
    expect(q.head!.weight).toHaveLength(D + 1); // the embedding and its norm
    expect(t.lastParts()!.meanUiIndex).toBe(0); // UI images are regressed to 0 by default
    t2.dispose();
    t.dispose();
  });

  it('refuses missing inputs with the fix named', () => {
    expect(() => new RecognizabilityTraining({ embeddingSize: D })).toThrow(/featureChannels .* required when attentionWeight > 0/);
    const t = new RecognizabilityTraining({ embeddingSize: D, attentionWeight: 0 });
    const emb = tf.zeros([B, D]) as tf.Tensor2D;
    expect(() => t.loss({ embeddings: emb, labels, prototypes: protos })).toThrow(/no UI centre yet; pass uiEmbeddings/);
    t.setUiCenter(unit(rand(D, 1)));
    expect(() => t.loss({ embeddings: emb, labels: labels.subarray(1), prototypes: protos })).toThrow(/7 labels for 8 embeddings/);
    expect(() => t.loss({ embeddings: emb, labels, prototypes: new Float32Array(D + 1) })).toThrow(/prototype values are not whole/);
    emb.dispose();
    t.dispose();
  });
});

describe('fitRecognizabilityHead', () => {
  it('recovers a head that generates the targets exactly (Smooth-L1, full batch), without leaking tensors', () => {
    const n = 200;
    const d = 6;
    const emb = rand(n * d, 21).map((x) => 2 * x);
    const trueHead = { embeddingSize: d, weight: Array.from(rand(d + 1, 4)), bias: 0.3 };
    const targets = predictRecognizability(trueHead, emb);
    const before = tf.memory().numTensors;
    const fit = fitRecognizabilityHead(emb, targets, d, { steps: 1500, learningRate: 0.05, weightDecay: 0 });
    expect(tf.memory().numTensors).toBe(before);
    const got = predictRecognizability(fit.head, emb);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - targets[i]!));
    expect(worst).toBeLessThan(0.02);
    expect(fit.loss).toBeLessThan(1e-4);
    expect(() => fitRecognizabilityHead(emb, targets.subarray(1), d)).toThrow(/199 targets for 200 embeddings/);
  });
});

describe('smoothL1Loss', () => {
  it('matches PyTorch smooth_l1_loss on both branches', () => {
    const p = [0.1, 0.9, -0.5, 2, 0.3];
    const y = [0, 0, 0.2, 0.1, 0.3];
    for (const beta of [0.75, 0.2]) {
      const got = tf.tidy(() => smoothL1Loss(tf.tensor1d(p), tf.tensor1d(y), beta).dataSync()[0]!);
      expect(got).toBeCloseTo(p.reduce((s, x, i) => s + smoothL1(x - y[i]!, beta), 0) / p.length, 6);
    }
  });
});
