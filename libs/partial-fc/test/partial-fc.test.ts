// PartialFC against independent computations: the full FC through @facet/heads' marginLoss with tfjs autodiff and a
// float64 optimizer update written here; shard-count invariance; frozen unsampled rows; state round trips.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { MARGIN_PRESETS, marginLoss, type MarginOptions } from '@facet/heads';
import { PartialFC, estimateStepEngineBytes, fixedInputHeadStep, type PartialFCOptions } from '../src/index.js';
import { maxAbsDiff, relErr, uniformFloat32 as uniform } from '@facet/test-utils';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const B = 6;
const D = 8;

function batch(step: number, C: number) {
  const emb = uniform(B * D, 500 + step).map((v) => 3 * v);
  const labels = Int32Array.from({ length: B }, (_, i) => (i * 5 + step * 3) % C);
  return { emb, labels };
}

/** One PartialFC step: loss, d loss/d embeddings (through the caller's tf.grads), centre gradient, then step(). */
function pfcStep(pfc: PartialFC, emb: Float32Array, labels: Int32Array, lr?: number) {
  const x = tf.tensor2d(emb, [B, D]);
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => pfc.forward(e as tf.Tensor2D, labels))(x);
  const out = {
    loss: value.dataSync()[0]!,
    dEmb: grad.dataSync().slice(),
    sampled: pfc.lastSampledClasses()!.slice(),
    centerGrad: pfc.lastCenterGradient()!.slice(),
    accuracy: pfc.lastAccuracy(),
  };
  tf.dispose([x, value, grad]);
  pfc.step(lr);
  return out;
}

/** The full FC through heads.marginLoss (tfjs autodiff), on centres W [C, K, D]. */
function fullFC(W: Float32Array, C: number, K: number, emb: Float32Array, labels: Int32Array, margin: MarginOptions) {
  const x = tf.tensor2d(emb, [B, D]);
  const w = K === 1 ? tf.tensor2d(W, [C, D]) : tf.tensor3d(W, [C, K, D]);
  const l = tf.tensor1d(labels, 'int32');
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => marginLoss(a as tf.Tensor2D, b as tf.Tensor2D, l, margin))([x, w]);
  const out = { loss: value.dataSync()[0]!, dEmb: grads[0]!.dataSync().slice(), dW: grads[1]!.dataSync().slice() as Float32Array };
  tf.dispose([x, w, l, value, ...grads]);
  return out;
}

/** Reference optimizers in float64 over the rows `rows` (row length Lr) — written from the torch docs. */
function refSgd(W: Float32Array, mom: Float64Array, g: Float32Array, rows: ArrayLike<number>, Lr: number, lr: number, mu: number, wd: number) {
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i]!;
    for (let j = 0; j < Lr; j++) {
      const k = c * Lr + j;
      mom[k] = mu * mom[k]! + g[i * Lr + j]! + wd * W[k]!;
      W[k] = W[k]! - lr * mom[k]!;
    }
  }
}

function refAdamW(W: Float32Array, m: Float64Array, v: Float64Array, g: Float32Array, C: number, Lr: number, lr: number, t: number, wd: number) {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let k = 0; k < C * Lr; k++) {
    W[k] = W[k]! * (1 - lr * wd);
    m[k] = b1 * m[k]! + (1 - b1) * g[k]!;
    v[k] = b2 * v[k]! + (1 - b2) * g[k]! ** 2;
    const mh = m[k]! / (1 - b1 ** t);
    const vh = v[k]! / (1 - b2 ** t);
    W[k] = W[k]! - (lr * mh) / (Math.sqrt(vh) + eps);
  }
}

const configs: Array<{ name: string; K: number; margin: MarginOptions; blockBytes?: number }> = [
  { name: 'arcface', K: 1, margin: MARGIN_PRESETS.arcface },
  { name: 'cosface th_mm', K: 1, margin: { ...MARGIN_PRESETS.cosface, rule: 'th_mm' } },
  { name: 'sphereface straight-through', K: 1, margin: { ...MARGIN_PRESETS.sphereface, gradient: 'straight_through' } },
  { name: 'combined th_mm', K: 1, margin: { ...MARGIN_PRESETS.combined, rule: 'th_mm' } },
  { name: 'sub-center arcface K=3', K: 3, margin: MARGIN_PRESETS.arcface },
  { name: 'sub-center arcface K=3 straight-through th_mm', K: 3, margin: { ...MARGIN_PRESETS.arcface, rule: 'th_mm', gradient: 'straight_through' } },
  { name: 'arcface in engine blocks of 2 classes', K: 1, margin: MARGIN_PRESETS.arcface, blockBytes: 2 * D * 4 },
  { name: 'sub-center K=3 cosface in engine blocks of 4 classes', K: 3, margin: MARGIN_PRESETS.cosface, blockBytes: 4 * 3 * D * 4 },
];

describe('sampleRate 1 equals the full FC', () => {
  for (const cfg of configs) {
    it(`${cfg.name}: loss, embedding gradient and SGD-momentum-updated centres over 3 steps`, () => {
      const C = 11;
      const Lr = cfg.K * D;
      const pfc = new PartialFC({ numClasses: C, embeddingSize: D, margin: cfg.margin, subCenters: cfg.K, optimizer: { type: 'sgd', lr: 0.2 }, seed: 3, ...(cfg.blockBytes ? { blockBytes: cfg.blockBytes } : {}) });
      const W = pfc.store.exportWeights();
      const mom = new Float64Array(W.length);
      for (let step = 0; step < 3; step++) {
        const { emb, labels } = batch(step, C);
        const ref = fullFC(W, C, cfg.K, emb, labels, cfg.margin);
        const got = pfcStep(pfc, emb, labels, step === 2 ? 0.05 : undefined);
        expect(Array.from(got.sampled)).toEqual([...Array(C).keys()]);
        expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-5);
        expect(relErr(got.dEmb, ref.dEmb)).toBeLessThan(2e-4);
        expect(relErr(got.centerGrad, ref.dW)).toBeLessThan(2e-4);
        refSgd(W, mom, ref.dW, [...Array(C).keys()], Lr, step === 2 ? 0.05 : 0.2, 0.9, 5e-4);
        expect(relErr(pfc.store.exportWeights(), W)).toBeLessThan(1e-5);
      }
      pfc.dispose();
    });
  }

  it('AdamW: centres after 3 steps equal the float64 AdamW reference on the full FC gradient', () => {
    const C = 9;
    const pfc = new PartialFC({ numClasses: C, embeddingSize: D, optimizer: { type: 'adamw', lr: 0.01, weightDecay: 0.1 }, seed: 4 });
    const W = pfc.store.exportWeights();
    const m = new Float64Array(W.length);
    const v = new Float64Array(W.length);
    for (let step = 1; step <= 3; step++) {
      const { emb, labels } = batch(step, C);
      const ref = fullFC(W, C, 1, emb, labels, MARGIN_PRESETS.arcface);
      pfcStep(pfc, emb, labels);
      refAdamW(W, m, v, ref.dW, C, D, 0.01, step, 0.1);
      expect(relErr(pfc.store.exportWeights(), W)).toBeLessThan(1e-4);
    }
  });
});

describe('sampling', () => {
  it('rate < 1: the loss is the margin loss over the sampled centres with remapped labels; unsampled rows and their momentum stay frozen', () => {
    const C = 40;
    const pfc = new PartialFC({ numClasses: C, embeddingSize: D, sampleRate: 0.3, optimizer: { type: 'sgd', lr: 0.1 }, seed: 9 });
    // step 1 gives every sampled row a momentum; step 2 checks the rows step 2 does not sample keep theirs
    const first = pfcStep(pfc, batch(0, C).emb, batch(0, C).labels);
    expect(first.sampled.length).toBe(12);
    const mom1 = pfc.store.exportSlot('momentum');
    const W1 = pfc.store.exportWeights();
    const { emb, labels } = batch(1, C);
    const x = tf.tensor2d(emb, [B, D]);
    const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => pfc.forward(e as tf.Tensor2D, labels))(x);
    const sampled = pfc.lastSampledClasses()!;
    for (const y of labels) expect(sampled.includes(y)).toBe(true);
    const sub = new Float32Array(sampled.length * D);
    sampled.forEach((c, i) => sub.set(W1.subarray(c * D, (c + 1) * D), i * D));
    const remapped = Int32Array.from(labels, (y) => sampled.indexOf(y));
    const ref = fullFC(sub, sampled.length, 1, emb, remapped, MARGIN_PRESETS.arcface);
    expect(Math.abs(value.dataSync()[0]! - ref.loss) / ref.loss).toBeLessThan(1e-5);
    expect(relErr(grad.dataSync(), ref.dEmb)).toBeLessThan(2e-4);
    tf.dispose([x, value, grad]);
    pfc.step();
    const W2 = pfc.store.exportWeights();
    const mom2 = pfc.store.exportSlot('momentum');
    let frozen = 0;
    let moved = 0;
    for (let c = 0; c < C; c++) {
      const row = (a: Float32Array) => a.subarray(c * D, (c + 1) * D);
      if (sampled.includes(c)) {
        expect(maxAbsDiff(row(W2), row(W1))).toBeGreaterThan(0);
        moved++;
      } else {
        expect(Array.from(row(W2))).toEqual(Array.from(row(W1)));
        expect(Array.from(row(mom2))).toEqual(Array.from(row(mom1)));
        if (first.sampled.includes(c)) frozen++;
      }
    }
    expect(moved).toBe(12);
    expect(frozen).toBeGreaterThan(0); // some rows had momentum from step 1 and kept it unchanged
  });

  it('N = 1, 2, 3 shards (and engine blocks) give the same loss, gradients, accuracy and centres (rate 0.5, K=2)', () => {
    const C = 17;
    const run = (numShards: number, blockBytes?: number) => {
      const pfc = new PartialFC({ numClasses: C, embeddingSize: D, sampleRate: 0.5, subCenters: 2, numShards, seed: 21, ...(blockBytes ? { blockBytes } : {}) });
      const out = [];
      for (let s = 0; s < 3; s++) out.push(pfcStep(pfc, batch(s, C).emb, batch(s, C).labels));
      return { out, W: pfc.store.exportWeights() };
    };
    const one = run(1);
    // 2 and 3 shards, and 1 or 2 shards split into engine blocks of 3 classes (2 sub-centres × D floats × 4 B each)
    for (const [n, blockBytes] of [[2], [3], [1, 3 * 2 * D * 4], [2, 3 * 2 * D * 4]] as Array<[number, number?]>) {
      const other = run(n, blockBytes);
      other.out.forEach((o, s) => {
        const r = one.out[s]!;
        expect(Array.from(o.sampled)).toEqual(Array.from(r.sampled));
        expect(Math.abs(o.loss - r.loss) / r.loss).toBeLessThan(5e-6); // float32 summation order only
        expect(relErr(o.dEmb, r.dEmb)).toBeLessThan(1e-5);
        expect(relErr(o.centerGrad, r.centerGrad)).toBeLessThan(1e-5);
        expect(o.accuracy).toBe(r.accuracy);
      });
      expect(relErr(other.W, one.W)).toBeLessThan(1e-5);
    }
  });
});

describe('engine hygiene and memory', () => {
  it('tensor count is flat across steps, also when a forward is never differentiated', () => {
    const pfc = new PartialFC({ numClasses: 30, embeddingSize: D, sampleRate: 0.4, subCenters: 3, numShards: 2 });
    pfcStep(pfc, batch(0, 30).emb, batch(0, 30).labels);
    const before = tf.memory().numTensors;
    for (let s = 1; s < 4; s++) pfcStep(pfc, batch(s, 30).emb, batch(s, 30).labels);
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.tensor2d(batch(5, 30).emb, [B, D]);
    pfc.forward(x, batch(5, 30).labels).dispose(); // evaluation only: no backward ever runs
    pfc.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('estimateStepEngineBytes bounds the measured engine peak (tf.profile) without gross overestimation', async () => {
    // regimes where W [R, D] dominates (small batch, wide rows) and where the logits [B, R] dominate
    // and the same with several engine blocks per step
    const cases = [[2000, 1, 0.5, 32, 64, undefined], [600, 3, 1, 32, 64, undefined], [1500, 1, 1, 4, 256, undefined],
      [800, 2, 0.5, 96, 8, undefined], [3000, 1, 1, 16, 64, 64 * 4 * 500], [900, 3, 1, 32, 16, 16 * 3 * 4 * 100]] as const;
    for (const [C, K, rate, Bq, Dq, blockBytes] of cases) {
      const pfc = new PartialFC({ numClasses: C, embeddingSize: Dq, subCenters: K, sampleRate: rate, seed: 1, ...(blockBytes ? { blockBytes } : {}) });
      const x = tf.tensor2d(uniform(Bq * Dq, 3), [Bq, Dq]);
      const labels = Int32Array.from({ length: Bq }, (_, i) => (i * 31) % C);
      const base = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const g = tf.grad((e: tf.Tensor) => pfc.forward(e as tf.Tensor2D, labels))(x);
        g.dispose();
      });
      const measured = info.peakBytes - base;
      const est = pfc.estimateMemory(Bq).engineBytes;
      expect(est, `C=${C} K=${K} r=${rate} blocks ${blockBytes}`).toBeGreaterThanOrEqual(measured);
      // the estimate also covers kernel-internal temporaries tf.memory() does not see (the explicit Wᵀ of wasm matmul)
      expect(est).toBeLessThan(2.5 * measured);
      if (!blockBytes) expect(est).toBe(estimateStepEngineBytes(Bq, Math.floor(rate * C), K, Dq));
      expect(pfc.estimateMemory(Bq).hostBytes).toBeGreaterThan(C * K * Dq * 8);
      pfc.step();
      pfc.dispose();
      x.dispose();
    }
  });

  it('refuses a step over the engine budget before allocating', () => {
    const pfc = new PartialFC({ numClasses: 1000, embeddingSize: D, engineBudgetBytes: 100_000 });
    const x = tf.tensor2d(batch(0, 1000).emb, [B, D]);
    const n = tf.memory().numTensors;
    expect(() => pfc.forward(x, batch(0, 1000).labels)).toThrow(/needs about .* GiB of engine memory .* lower sampleRate \(now 1\)/);
    expect(tf.memory().numTensors).toBe(n);
    x.dispose();
  });
});

describe('fixedInputHeadStep (the timed head step of the repro and the bench)', () => {
  it('is the public forward/grad/step sequence on fixed embeddings with LCG labels, and leaks no tensor', () => {
    const opts = { numClasses: 40, embeddingSize: D, sampleRate: 0.3, seed: 5 };
    const timed = new PartialFC(opts);
    const twin = new PartialFC(opts);
    const h = fixedInputHeadStep(timed, B);
    const fixed = tf.randomNormal([B, D], 0, 1, 'float32', 3);
    const emb = fixed.dataSync().slice() as Float32Array;
    fixed.dispose();
    const before = tf.memory().numTensors;
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const labels = h.nextLabels();
      expect(labels.every((l) => l >= 0 && l < 40)).toBe(true);
      seen.add(labels.join());
      h.step();
      pfcStep(twin, emb, labels);
    }
    expect(seen.size).toBe(3);
    expect(maxAbsDiff(timed.store.exportWeights(), twin.store.exportWeights())).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    h.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
    timed.dispose();
    twin.dispose();
  });
});

describe('float16 storage', () => {
  it('trains with rows rounded to half after each update', () => {
    const C = 10;
    const a = new PartialFC({ numClasses: C, embeddingSize: D, storage: 'float16', seed: 2 });
    const W = a.store.exportWeights();
    const { emb, labels } = batch(0, C);
    const ref = fullFC(W, C, 1, emb, labels, MARGIN_PRESETS.arcface);
    pfcStep(a, emb, labels);
    refSgd(W, new Float64Array(W.length), ref.dW, [...Array(C).keys()], D, 0.1, 0.9, 5e-4);
    const got = a.store.exportWeights();
    // float16 keeps 11 significant bits: agreement to half an ulp of the largest centre value
    expect(maxAbsDiff(got, W)).toBeLessThan(2 ** -11 * Math.max(...W.map(Math.abs)));
    expect(maxAbsDiff(got, W)).toBeGreaterThan(0);
  });
});

describe('state', () => {
  it('getState/setState resumes bit-identically (centres, momentum, step count, sampling stream)', () => {
    const C = 25;
    const opts: PartialFCOptions = { numClasses: C, embeddingSize: D, sampleRate: 0.4, optimizer: { type: 'adamw', lr: 0.01 }, seed: 8 };
    const a = new PartialFC(opts);
    pfcStep(a, batch(0, C).emb, batch(0, C).labels);
    const state = a.getState();
    expect(Object.keys(state).sort()).toEqual(['embeddingSize', 'expAvg', 'expAvgSq', 'numClasses', 'optimizer', 'rngState', 'step', 'storage', 'subCenters', 'weights']);
    const b = new PartialFC({ ...opts, seed: 99 });
    b.setState(state);
    const ra = pfcStep(a, batch(1, C).emb, batch(1, C).labels);
    const rb = pfcStep(b, batch(1, C).emb, batch(1, C).labels);
    expect(Array.from(rb.sampled)).toEqual(Array.from(ra.sampled));
    expect(rb.loss).toBe(ra.loss);
    expect(b.store.exportWeights()).toEqual(a.store.exportWeights());
  });

  it('setState validates shapes and optimizer', () => {
    const a = new PartialFC({ numClasses: 5, embeddingSize: D });
    const s = a.getState();
    expect(s.momentum).toBeInstanceOf(Float32Array);
    const b = new PartialFC({ numClasses: 6, embeddingSize: D });
    expect(() => b.setState(s)).toThrow(/checkpoint numClasses=5 but this head has 6/);
    const c = new PartialFC({ numClasses: 5, embeddingSize: D, optimizer: { type: 'adamw', lr: 1e-3 } });
    expect(() => c.setState(s)).toThrow(/optimizer is sgd but this head uses adamw; remove momentum/);
    const { momentum: _m, ...noMomentum } = s;
    c.setState(noMomentum);
    expect(() => a.setState({ ...s, weights: new Float32Array(3) })).toThrow(/weights must be a Float32Array of 40 values/);
  });
});

describe('bad input', () => {
  it('options are validated with clear messages', () => {
    const ok = { numClasses: 10, embeddingSize: D };
    expect(() => new PartialFC({ ...ok, sampleRate: 0 })).toThrow(/sampleRate=0 must be in \(0, 1\]/);
    expect(() => new PartialFC({ ...ok, sampleRate: NaN })).toThrow(/sampleRate=NaN/);
    expect(() => new PartialFC({ ...ok, numShards: 11 })).toThrow(/numShards=11 exceeds numClasses=10/);
    expect(() => new PartialFC({ ...ok, subCenters: 0 })).toThrow(/subCenters=0 must be a positive integer/);
    expect(() => new PartialFC({ ...ok, margin: { ...MARGIN_PRESETS.arcface, m1: 0.5 } })).toThrow(/m1=0.5 must be ≥ 1/);
    expect(() => new PartialFC({ ...ok, optimizer: { type: 'sgd', lr: -1 } })).toThrow(/optimizer.lr=-1/);
    expect(() => new PartialFC({ ...ok, optimizer: { type: 'adamw', lr: 1, beta2: 1 } })).toThrow(/optimizer.beta2=1 must be in \[0, 1\)/);
    expect(() => new PartialFC({ ...ok, optimizer: { type: 'lamb', lr: 1 } as never })).toThrow(/optimizer.type='lamb'/);
    expect(() => new PartialFC({ ...ok, storage: 'int8' as never })).toThrow(/storage='int8'/);
  });

  it('forward / step misuse', () => {
    const pfc = new PartialFC({ numClasses: 10, embeddingSize: D });
    const x = tf.tensor2d(batch(0, 10).emb, [B, D]);
    expect(() => pfc.forward(tf.zeros([B, D + 1]) as tf.Tensor2D, batch(0, 10).labels)).toThrow(/embeddings must be \[batch, 8\]; got \[6,9\]/);
    expect(() => pfc.forward(x, Int32Array.from([1, 2]))).toThrow(/one class index per embedding \(6\)/);
    expect(() => pfc.forward(x, Int32Array.from([1, 2, 3, 4, 5, 10]))).toThrow(/labels\[5\]=10 is outside \[0, 10\)/);
    expect(() => pfc.step()).toThrow(/no centre gradient/);
    const l = pfc.forward(x, batch(0, 10).labels);
    l.dispose();
    expect(() => pfc.step()).toThrow(/no centre gradient/);
    pfc.dispose();
    expect(() => pfc.forward(x, batch(0, 10).labels)).toThrow(/disposed/);
    x.dispose();
  });
});
