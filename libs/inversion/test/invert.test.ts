import { initEngine, tf } from '@facet/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeInversion, invert, sampleRandomIdentities, type InversionProgress } from '../src/index.js';
import { trainTinyModel, type TrainedTiny } from './trained-model.js';

// Two tiny IResNets trained here on the same 4 procedural identities (different seeds): the model to invert and an
// independent verifier. At 16 px one pixel of jitter is 6 % of the image, so the full-prior run uses jitter 0; the
// jitter/flip path is exercised on its own below.
let net: TrainedTiny;
let verifier: TrainedTiny;
let faces: tf.Tensor4D;
let withBnPrior: { batchBnDistance: number } | undefined;
const STEPS = 80;
const base = { steps: STEPS, warmupSteps: 8, batchSize: 4, lr: 0.1 };

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
  net = trainTinyModel({ classes: 4, size: 16, steps: 40, seed: 5 });
  verifier = trainTinyModel({ classes: 4, size: 16, steps: 40, seed: 6 });
  faces = net.classImages(1);
}, 120_000);

afterAll(() => {
  net?.dispose();
  verifier?.dispose();
  faces?.dispose();
});

describe('invert a tiny trained model', () => {
  it('open set, all priors on: cosine to each face embedding from ~0 to > 0.9; report, snapshots, no leaks', async () => {
    const before = tf.memory().numTensors;
    const progress: InversionProgress[] = [];
    const r = await invert(net.model, { kind: 'image', images: faces }, {
      ...base,
      jitter: 0,
      flip: false,
      verifier: { model: verifier.model },
      onProgress: (p) => progress.push(p),
    });
    expect(Math.abs(r.summary.meanInitialCosine)).toBeLessThan(0.4);
    for (const row of r.report) expect(row.cosine).toBeGreaterThan(0.9);
    // the verifier never saw these images' gradients: its cosine is reported, and is a real number
    for (const row of r.report) expect(row.verifierCosine).toBeTypeOf('number');
    expect(r.summary.batchBnDistance).toBeLessThan(r.summary.initialBatchBnDistance);
    withBnPrior = r.summary;
    expect(progress).toHaveLength(STEPS);
    expect(progress.at(-1)!.cosine).toBeGreaterThan(0.9);
    expect(progress[0]!.bn).toBeGreaterThan(0);
    expect(r.images.shape).toEqual([4, 16, 16, 3]);
    const range = tf.tidy(() => [tf.min(r.images).dataSync()[0]!, tf.max(r.images).dataSync()[0]!]);
    expect(range[0]).toBeGreaterThanOrEqual(-1);
    expect(range[1]).toBeLessThanOrEqual(1);
    expect(r.snapshots.map((s) => s.step)).toEqual([13, 27, 40, 53, 67, 80]);
    expect(r.snapshots.every((s) => s.images.shape[0] === 4)).toBe(true);
    disposeInversion(r);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the BN prior lowers the BN statistic distance of the result (ablation --no-bn-prior)', async () => {
    // same settings and seed as the first test, BN prior off
    const without = await invert(net.model, { kind: 'image', images: faces }, { ...base, jitter: 0, flip: false, bnWeight: 0 });
    expect(without.summary.priors.bn).toBe(false);
    expect(withBnPrior!.batchBnDistance).toBeLessThan(0.5 * without.summary.batchBnDistance);
    disposeInversion(without);
  });

  it('jitter + flip, several chunks: cosine still rises above 0.9; the same seed gives the same images', async () => {
    const opts = { ...base, steps: 60, jitter: 1, flip: true, bnWeight: 0, tvWeight: 0, l2Weight: 0, batchSize: 2, snapshotSteps: [0] };
    const a = await invert(net.model, { kind: 'image', images: faces }, opts);
    expect(a.summary.chunks).toBe(2);
    for (const row of a.report) expect(row.cosine).toBeGreaterThan(0.9);
    expect(a.snapshots.map((s) => s.step)).toEqual([0, 60]);
    const b = await invert(net.model, { kind: 'image', images: faces }, { ...opts, steps: 3, snapshotSteps: [] });
    const c = await invert(net.model, { kind: 'image', images: faces }, { ...opts, steps: 3, snapshotSteps: [] });
    expect(Array.from(b.images.dataSync())).toEqual(Array.from(c.images.dataSync()));
    [a, b, c].forEach(disposeInversion);
  });

  it('close set (ArcFace loss to the class centres): each image ends nearest its own class, cosine up', async () => {
    const r = await invert(net.model, { kind: 'class', classes: [0, 1, 2, 3], centers: net.centers as tf.Variable<tf.Rank.R2> }, {
      ...base,
      jitter: 0,
      flip: false,
      margin: { s: 16, m1: 1, m2: 0.3, m3: 0 },
      verifier: { model: verifier.model, centers: verifier.centers as tf.Variable<tf.Rank.R2> },
    });
    const cos = tf.tidy(() => {
      const e = net.model.apply(r.images);
      const n = tf.div(e, tf.norm(e, 'euclidean', 1, true));
      const w = tf.div(net.centers, tf.norm(net.centers, 'euclidean', 1, true));
      return tf.matMul(n, w, false, true).arraySync() as number[][];
    });
    cos.forEach((row, i) => expect(row.indexOf(Math.max(...row))).toBe(i));
    r.report.forEach((row, i) => {
      expect(row.cosine).toBeCloseTo(cos[i]![i]!, 4);
      expect(row.cosine).toBeGreaterThan(0.5);
    });
    // the margin softmax saturates once the class wins by the margin, so it does not drive cos → 1 as the open-set
    // ℓ2 loss does; it still lifts the mean cosine a lot
    expect(r.summary.meanCosine).toBeGreaterThan(r.summary.meanInitialCosine + 0.3);
    expect(r.summary.meanVerifierCosine).toBeTypeOf('number');
    disposeInversion(r);
  });

  it('random identities: the new defaults (drawn from the centres, identity weight s/2) beat the paper recipe (uniform on the sphere) on the same seed', async () => {
    // all other options at their defaults, 60 steps (the default 600 is for a real model); the tiny head's s = 16
    const margin = { s: 16, m1: 1, m2: 0.3, m3: 0 };
    const centers = net.centers as tf.Variable<tf.Rank.R2>;
    const common = { steps: 60, batchSize: 4, seed: 3, margin, verifier: { model: verifier.model, centers: verifier.centers as tf.Variable<tf.Rank.R2> } };
    const old = await invert(net.model, { kind: 'random', count: 4, seed: 3 }, { ...common, recipe: 'paper', verifier: { model: verifier.model } });
    const now = await invert(net.model, { kind: 'random', count: 4, seed: 3, reference: centers }, common);
    expect(now.summary.identityWeight).toBe(8);
    expect(old.summary.identityWeight).toBe(1);
    expect(old.summary.meanVerifierCosine).toBeNull(); // a uniform direction has no counterpart in the verifier's space
    expect(now.summary.meanCosine).toBeGreaterThan(old.summary.meanCosine + 0.1);
    expect(now.summary.meanCosine).toBeGreaterThan(0.5);
    // the same mixture of the verifier's own centres: the verifier recognises each new identity in its own image
    expect(now.summary.meanVerifierCosine!).toBeGreaterThan(now.summary.meanVerifierImpostorCosine!);
    expect(now.report.every((r) => r.converged === (r.cosine >= 0.7 && r.verifierCosine! > r.verifierImpostorCosine!))).toBe(true);
    expect(now.summary.converged).toBe(now.summary.convergedCount === 4);
    console.log(`tiny model, 60 steps: paper recipe cos ${old.summary.meanCosine.toFixed(3)}, facet ${now.summary.meanCosine.toFixed(3)} (verifier ${now.summary.meanVerifierCosine!.toFixed(3)} vs impostor ${now.summary.meanVerifierImpostorCosine!.toFixed(3)})`);
    [old, now].forEach(disposeInversion);
  });

  it('a verifier identical to the model scores random identities exactly as the model does (same mixture of the same centres)', async () => {
    const centers = net.centers as tf.Variable<tf.Rank.R2>;
    const r = await invert(net.model, { kind: 'random', count: 3, seed: 1, reference: centers }, { steps: 2, batchSize: 3, verifier: { model: net.model, centers } });
    r.report.forEach((row) => expect(row.verifierCosine!).toBeCloseTo(row.cosine, 4));
    // impostor level: mean cosine of the other images to this target, recomputed here from the model and the draw
    const { targets, weights } = sampleRandomIdentities(3, 16, 1, centers);
    const m = tf.tidy(() => {
      const e = net.model.apply(r.images);
      return tf.matMul(tf.div(e, tf.norm(e, 'euclidean', 1, true)), targets, false, true).arraySync() as number[][];
    });
    r.report.forEach((row, i) => {
      expect(row.cosine).toBeCloseTo(m[i]![i]!, 4);
      expect(row.verifierImpostorCosine!).toBeCloseTo((m.reduce((s, x, j) => s + (j === i ? 0 : x[i]!), 0)) / 2, 4);
    });
    tf.dispose([targets, weights!]);
    disposeInversion(r);
  });

  it('bad input gives one clear error naming the option', async () => {
    const m = net.model;
    await expect(invert(m, { kind: 'random', count: 2 }, { steps: 0 })).rejects.toThrow(/steps=0 must be a positive integer/);
    await expect(invert(m, { kind: 'random', count: 2 }, { jitter: 99 })).rejects.toThrow(/jitter=99/);
    await expect(invert(m, { kind: 'class', classes: [7], centers: net.centers as tf.Variable<tf.Rank.R2> })).rejects.toThrow(/class 7 is out of range; the head has classes 0..3/);
    const wrong = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    await expect(invert(m, { kind: 'image', images: wrong })).rejects.toThrow(/must be \[N, 16, 16, 3\]/);
    const emb = tf.zeros([2, 5]) as tf.Tensor2D;
    await expect(invert(m, { kind: 'embedding', embeddings: emb })).rejects.toThrow(/5-d but model iresnet18 embeds in 16-d/);
    await expect(invert(m, { kind: 'random', count: 1 }, { bogus: 1 } as never)).rejects.toThrow(/unknown option "bogus"/);
    tf.dispose([wrong, emb]);
  });
});
