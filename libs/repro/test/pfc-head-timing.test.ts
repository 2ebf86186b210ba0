import { initEngine, tf } from '@facet/engine';
import { maxSampledClasses, PartialFC } from '@facet/partial-fc';
import { beforeAll, describe, expect, it } from 'vitest';
import { timePartialFcHead } from '../src/experiments/pfc-head-timing.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

describe('Partial FC head timing (experiment 3 cost table)', () => {
  it('one row per rate, in order, with the sampled classes and memory of a PartialFC of that rate; leaks no tensor', () => {
    const o = { classes: 3000, embeddingSize: 16, batch: 8, rates: [1, 0.1, 0.001], steps: 2, rounds: 2 };
    const before = tf.memory().numTensors;
    const rows = timePartialFcHead(o);
    expect(tf.memory().numTensors).toBe(before);
    expect(rows.map((r) => r.rate)).toEqual(o.rates);
    // 0.001·3000 = 3 < batch 8: the sample is the batch's positives, at most 8
    expect(rows.map((r) => r.sampledClasses)).toEqual([3000, 300, 8]);
    for (const r of rows) {
      expect(r.sampledClasses).toBe(maxSampledClasses(o.classes, r.rate, o.batch));
      const pfc = new PartialFC({ numClasses: o.classes, embeddingSize: o.embeddingSize, sampleRate: r.rate });
      const mem = pfc.estimateMemory(o.batch);
      pfc.dispose();
      expect(r.engineMiB).toBeCloseTo(mem.engineBytes / 2 ** 20, 9);
      expect(r.hostMiB).toBeCloseTo(mem.hostBytes / 2 ** 20, 9);
      expect(r.medianMs).toBeGreaterThan(0);
    }
  });
});
