// sgd() on the native engine runs @facet/native's fused FacetSgdUpdate kernel; it must give exactly what the
// op-by-op update gives on tfjs's cpu backend (same float32 operations, same order), including per-variable
// learning-rate scales, no momentum, and the momentum state it checkpoints. Skips where the addon is not built.
import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { sgd } from '../src/optimizer.js';

const nativeOk = await initEngine({ backend: 'native' }).then(
  () => true,
  () => false,
);

function run(backend: string, momentum: number): Promise<{ w: Float32Array[]; slots: Record<string, Float32Array> }> {
  return (async () => {
    await tf.setBackend(backend);
    const shapes = [[3, 3, 5, 7], [129], [40, 33]];
    const vars = shapes.map((s, i) => tf.tidy(() => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 10 + i), true, `v${i}`)));
    const opt = sgd(vars, { momentum, weightDecay: 5e-4, lrScales: new Map([['v1', 0.1]]) });
    for (let step = 0; step < 4; step++) {
      const grads = Object.fromEntries(vars.map((v, i) => [v.name, tf.randomNormal(v.shape, 0, 1, 'float32', 1000 + 100 * step + i)]));
      opt.apply(grads, 0.1 / (step + 1));
      tf.dispose(Object.values(grads));
    }
    const out = { w: vars.map((v) => v.dataSync() as Float32Array), slots: opt.getState().slots };
    opt.dispose();
    tf.dispose(vars);
    return out;
  })();
}

describe.skipIf(!nativeOk)('sgd on the native engine (fused kernel)', () => {
  for (const momentum of [0.9, 0]) {
    it(`equals the op-by-op update on cpu bit for bit (momentum ${momentum}, lr scales)`, async () => {
      expect(tf.getKernel('FacetSgdUpdate', 'native')).toBeDefined();
      const want = await run('cpu', momentum);
      const tensors = tf.memory().numTensors;
      const got = await run('native', momentum);
      expect(tf.memory().numTensors).toBe(tensors);
      got.w.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(want.w[i]!)));
      expect(Object.keys(got.slots).sort()).toEqual(Object.keys(want.slots).sort());
      for (const k of Object.keys(want.slots)) expect(Array.from(got.slots[k]!)).toEqual(Array.from(want.slots[k]!));
    });
  }
});
