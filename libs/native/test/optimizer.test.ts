// FacetSgdUpdate (torch.optim.SGD in one pass) against the same update as tfjs ops on the cpu backend: the addon
// does the float32 arithmetic in the ops' order, so the results must be equal bit for bit; and over many steps on
// native the tensor count, the addon's allocations and the output pool stay flat.
import { describe, expect, it } from 'vitest';
import { nativeAddon, outputPool, SGD_UPDATE_KERNEL } from '../src/index.js';
import { addonLoaded, randomArray, tf } from './helpers.js';

/** The op-by-op update @facet/train's sgd() runs where the fused kernel is absent. */
function opByOp(w: tf.Tensor, g0: tf.Tensor, buf: tf.Tensor | undefined, lr: number, momentum: number, wd: number): tf.Tensor[] {
  const g = wd ? tf.add(g0, tf.mul(w, wd)) : g0;
  if (!buf) return [tf.sub(w, tf.mul(g, lr))];
  const b = tf.add(tf.mul(buf, momentum), g);
  return [tf.sub(w, tf.mul(b, lr)), b];
}

function fused(w: tf.Tensor, g: tf.Tensor, buf: tf.Tensor | undefined, lr: number, momentum: number, wd: number): tf.Tensor[] {
  const inputs: Record<string, tf.Tensor> = buf ? { w, g, buf } : { w, g };
  return tf.engine().runKernel(SGD_UPDATE_KERNEL, inputs, { lr, momentum, weightDecay: wd }) as unknown as tf.Tensor[];
}

async function values(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(fn).map((t) => {
    const d = t.dataSync() as Float32Array;
    t.dispose();
    return d;
  });
}

describe.skipIf(!addonLoaded)('FacetSgdUpdate on native', () => {
  // sizes below and above the addon's one-thread threshold (32k values), odd ones; with/without momentum and decay
  const cases: Array<[number[], number, number, number]> = [
    [[7], 0.1, 0.9, 5e-4],
    [[3, 3, 17, 5], 0.05, 0.9, 0],
    [[513, 129], 0.1, 0.9, 5e-4],
    [[25088 / 8, 512 / 4 + 1], 0.02, 0, 5e-4],
    [[1001], 0.3, 0, 0],
  ];
  for (const [shape, lr, momentum, wd] of cases) {
    it(`equals the op-by-op update on cpu bit for bit: [${shape}], lr ${lr}, momentum ${momentum}, weight decay ${wd}`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const [w, g, buf] = [1, 2, 3].map((s) => randomArray(n, n + s));
      const make = (withFused: boolean) => () => {
        const args = [tf.tensor(w, shape), tf.tensor(g, shape), momentum ? tf.tensor(buf, shape) : undefined] as const;
        return (withFused ? fused : opByOp)(args[0], args[1], args[2], lr, momentum, wd);
      };
      const want = await values('cpu', make(false));
      const got = await values('native', make(true));
      expect(got.length).toBe(momentum ? 2 : 1);
      for (let i = 0; i < want.length; i++) {
        expect(got[i]!.length).toBe(n);
        let mismatches = 0;
        for (let j = 0; j < n; j++) if (!Object.is(got[i]![j], want[i]![j])) mismatches++;
        expect(mismatches).toBe(0);
      }
    });
  }

  it('rejects gradients of another size with one line naming the kernel', async () => {
    await tf.setBackend('native');
    const w = tf.ones([4]);
    const g = tf.ones([5]);
    expect(() => fused(w, g, undefined, 0.1, 0, 0)).toThrow(/FacetSgdUpdate: w \[4\], g and buf must have the same size/);
    tf.dispose([w, g]);
  });

  it('over 50 updates: tensor count, addon allocations and pooled buffers stay flat; momentum state evolves as op-by-op', async () => {
    await tf.setBackend('native');
    const shape = [301, 257];
    const n = shape[0]! * shape[1]!;
    const w = tf.variable(tf.tensor(randomArray(n, 11), shape));
    const buf = tf.variable(tf.zeros(shape));
    const wRef = tf.variable(tf.tensor(randomArray(n, 11), shape));
    const bufRef = tf.variable(tf.zeros(shape));
    const step = (i: number) =>
      tf.tidy(() => {
        const g = tf.mul(tf.sin(tf.add(wRef, i)), 0.1);
        const [w2, b2] = fused(w, g, buf, 0.1, 0.9, 5e-4);
        w.assign(w2 as tf.Tensor2D);
        buf.assign(b2 as tf.Tensor2D);
        const [r2, rb2] = opByOp(wRef, g, bufRef, 0.1, 0.9, 5e-4);
        wRef.assign(r2 as tf.Tensor2D);
        bufRef.assign(rb2 as tf.Tensor2D);
      });
    for (let i = 0; i < 3; i++) step(i); // the pool's working set forms
    const tensors = tf.memory().numTensors;
    const allocations = nativeAddon().info().liveAllocations;
    const idle = outputPool.stats().idleBuffers;
    for (let i = 3; i < 50; i++) step(i);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(nativeAddon().info().liveAllocations).toBe(allocations);
    expect(outputPool.stats().idleBuffers).toBeLessThanOrEqual(idle + 2);
    // op-by-op on native uses the native Add/Sub/Multiply: same float32 operations, so the same values
    const [a, b] = [w.dataSync(), wRef.dataSync()];
    let mismatches = 0;
    for (let j = 0; j < n; j++) if (!Object.is(a[j], b[j])) mismatches++;
    expect(mismatches).toBe(0);
    tf.dispose([w, buf, wRef, bufRef]);
  });
});
