import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import {
  alignment,
  boundTerms,
  centerDivergence,
  compareMeasurements,
  concentration,
  concentrationFromViews,
  headlineMetrics,
  measureEmbeddings,
  measurementCharts,
  nearestCenterAccuracy,
  uniformity,
} from '../src/index.js';
import { gatherRows } from '../src/embedding-matrix.js';
import { clusteredViews } from './fixtures.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const tight = clusteredViews({ n: 90, dim: 8, classes: 6, spread: 0.3, viewNoise: 0.1, seed: 31 });
const loose = clusteredViews({ n: 90, dim: 8, classes: 6, spread: 1.2, viewNoise: 0.8, seed: 31 });

describe('measureEmbeddings', () => {
  it('agrees with the individual metric functions and keeps the engine clean', async () => {
    const before = tf.memory().numTensors;
    const stages: string[] = [];
    const deltas = [0.25, 0.5, 1, 2];
    const r = await measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas, onProgress: (s) => stages.push(s), blockRows: 16 });
    expect(tf.memory().numTensors).toBe(before);
    expect(stages).toEqual(['alignment', 'uniformity', 'centres', 'concentration', 'nearest-centre', 'done']);
    expect(r.images).toBe(90);
    expect(r.classes).toBe(6);
    expect(r.alignment).toBeCloseTo(alignment(tight.v1, tight.v2), 12);
    expect(r.alignmentAlpha).toEqual({ alpha: 1, value: expect.closeTo(alignment(tight.v1, tight.v2, { alpha: 1 }), 12) });
    expect(r.uniformity).toBeCloseTo((uniformity(tight.v1) + uniformity(tight.v2)) / 2, 6);
    const div = centerDivergence([tight.v1, tight.v2], tight.labels);
    expect(r.divergence.minL2).toBeCloseTo(div.minL2, 10);
    expect(r.divergence.maxInnerProduct).toBeCloseTo(div.maxInnerProduct, 10);
    expect(r.concentration.perClass).toEqual(concentration(tight.v1, tight.v2, tight.labels, { deltas }).perClass);
    // per-class alignment averages back to the overall one
    expect(r.classAlignment.reduce((s, c) => s + c.count * c.alignment, 0) / 90).toBeCloseTo(r.alignment, 12);
    expect(r.minClassProbability).toBeCloseTo(15 / 90, 12);
  });

  it('nearest-centre accuracy uses the even/odd split of each class', async () => {
    const r = await measureEmbeddings(loose.v1, loose.v2, loose.labels, { deltas: [1] });
    const seen = new Map<number, number>();
    const train: number[] = [];
    const test: number[] = [];
    loose.labels.forEach((l, i) => {
      const c = seen.get(l) ?? 0;
      (c % 2 === 0 ? train : test).push(i);
      seen.set(l, c + 1);
    });
    const split = (rows: number[]) => ({ x: [gatherRows(loose.v1, rows), gatherRows(loose.v2, rows)], labels: rows.map((i) => loose.labels[i]!) });
    const expected = nearestCenterAccuracy(split(train), split(test));
    expect(r.nearestCenter!.accuracy).toBe(expected.accuracy);
    expect(r.nearestCenter!.total).toBe(2 * test.length);
  });

  it('reports the tightest bound over the (δ, ε) grid, or the fixed pair when given', async () => {
    const deltas = [0.2, 0.5, 1];
    const epsilons = [0.1, 0.3, 0.6];
    const r = await measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas, epsilons });
    const all = deltas.flatMap((delta, i) =>
      epsilons.map((epsilon, e) =>
        boundTerms({
          sigma: r.concentration.sigma[i]!,
          delta,
          epsilon,
          rEpsilon: r.rEpsilon.values[e]!,
          minClassProbability: r.minClassProbability,
          maxInnerProduct: r.divergence.maxInnerProduct,
          deltaMu: r.divergence.deltaMu,
        }),
      ),
    );
    expect(r.bound.pairsTried).toBe(9);
    expect(r.bound.pairsHolding).toBe(all.filter((t) => t.divergenceHolds).length);
    const holding = all.filter((t) => t.divergenceHolds);
    if (holding.length) expect(r.bound.errorBound).toBe(Math.min(...holding.map((t) => t.errorBound)));
    else expect(r.bound.divergenceThreshold).toBe(Math.max(...all.map((t) => t.divergenceThreshold)));
    const fixed = await measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas, epsilons, delta: 0.5, epsilon: 0.3 });
    expect(fixed.bound.search).toBe('fixed');
    expect(fixed.bound.inputs.delta).toBe(0.5);
    expect(fixed.bound.inputs.rEpsilon).toBe(r.rEpsilon.values[1]);
    await expect(measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas, delta: 0.7 })).rejects.toThrow(/delta 0.7 is not on the δ grid/);
  });

  it('orders two embeddings the way the theory predicts: tighter views align better, diverge more, classify better', async () => {
    const a = await measureEmbeddings(tight.v1, tight.v2, tight.labels);
    const b = await measureEmbeddings(loose.v1, loose.v2, loose.labels);
    expect(a.alignment).toBeLessThan(b.alignment);
    expect(a.concentration.sigma[4]!).toBeGreaterThan(b.concentration.sigma[4]!); // δ = 0.5
    expect(a.nearestCenter!.accuracy).toBeGreaterThanOrEqual(b.nearestCenter!.accuracy);
    const rows = compareMeasurements(a, b);
    const row = (k: string) => rows.find((x) => x.key === k)!;
    expect(row('alignment').favours).toBe('a');
    expect(row('images').favours).toBeNull();
    expect(row('alignment').a).toBe(a.alignment);
    expect(headlineMetrics(a).map((m) => m.key)).toEqual(rows.map((x) => x.key));
  });

  it('builds chart specs carrying the report data (one series per run when comparing)', async () => {
    const a = await measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas: [0.5, 1], epsilons: [0.5] });
    const charts = measurementCharts([{ name: 'tight', report: a }]);
    const values = (s: object) => (s as { data: { values: unknown[] } }).data.values;
    expect(values(charts.concentration)).toHaveLength(2 + 2 + 1);
    expect(values(charts.centerCosine)).toHaveLength(40);
    expect(values(charts.classAlignment)).toHaveLength(6);
    const two = measurementCharts([{ name: 'a', report: a }, { name: 'b', report: a }]);
    expect(values(two.classAlignment)).toHaveLength(12);
    expect(JSON.stringify(two.centerCosine)).toMatch(/"color":\{"field":"run"/);
  });

  it('extraViews feed the concentration estimate only', async () => {
    const third = clusteredViews({ n: 90, dim: 8, classes: 6, spread: 0.3, viewNoise: 0.1, seed: 32, directionSeed: 31 });
    const deltas = [0.3, 0.6];
    const r = await measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas, extraViews: [third.v1] });
    expect(r.concentration.views).toBe(3);
    expect(r.concentration.perClass).toEqual(concentrationFromViews([tight.v1, tight.v2, third.v1], tight.labels, { deltas }).perClass);
    expect(r.alignment).toBeCloseTo(alignment(tight.v1, tight.v2), 12);
    await expect(measureEmbeddings(tight.v1, tight.v2, tight.labels, { extraViews: [{ data: new Float32Array(8), dim: 8 }] })).rejects.toThrow(
      /v1 has 90 rows but extraViews\[0\] has 1/,
    );
  });

  it('rejects bad options before computing', async () => {
    await expect(measureEmbeddings(tight.v1, tight.v2, tight.labels, { alpha: 0 })).rejects.toThrow(/alpha must be/);
    await expect(measureEmbeddings(tight.v1, tight.v2, new Array(90).fill(3))).rejects.toThrow(/at least 2 classes/);
    await expect(measureEmbeddings(tight.v1, tight.v2, tight.labels, { epsilons: [] })).rejects.toThrow(/epsilons must be a non-empty/);
    await expect(measureEmbeddings(tight.v1, tight.v2, tight.labels, { deltas: [0] })).rejects.toThrow(/deltas must hold finite numbers > 0/);
  });
});
