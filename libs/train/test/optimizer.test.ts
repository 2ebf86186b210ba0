import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { adamw, clipByGlobalNorm, sgd } from '../src/optimizer.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

const w0 = [0.5, -1.25, 2, 0.75];
const grads = [
  [0.1, -0.2, 0.3, 0.05],
  [-0.4, 0.1, 0.2, -0.3],
  [0.25, 0.25, -0.5, 0.1],
];

describe('backbone optimizers (PyTorch semantics) against float64 loops', () => {
  it('SGD with momentum 0.9 and weight decay 5e-4', () => {
    const v = tf.variable(tf.tensor1d(w0), true, 'w');
    const opt = sgd([v], { momentum: 0.9, weightDecay: 5e-4 });
    const w = [...w0];
    const buf = [0, 0, 0, 0];
    const lrs = [0.1, 0.05, 0.02];
    grads.forEach((g, s) => {
      const gt = tf.tensor1d(g);
      opt.apply({ w: gt }, lrs[s]!);
      gt.dispose();
      for (let i = 0; i < 4; i++) {
        const d = g[i]! + 5e-4 * w[i]!;
        buf[i] = 0.9 * buf[i]! + d;
        w[i] = w[i]! - lrs[s]! * buf[i]!;
      }
    });
    const got = v.dataSync();
    w.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(1e-6));
    const state = opt.getState();
    expect(Array.from(state.slots['w/momentum']!).map((x, i) => Math.abs(x - buf[i]!))).toSatisfy((d: number[]) => d.every((x) => x < 1e-6));
    opt.dispose();
    v.dispose();
  });

  it('AdamW with decoupled weight decay', () => {
    const v = tf.variable(tf.tensor1d(w0), true, 'w');
    const opt = adamw([v], { weightDecay: 0.1 });
    const w = [...w0];
    const m = [0, 0, 0, 0];
    const s2 = [0, 0, 0, 0];
    const lr = 1e-2;
    grads.forEach((g, k) => {
      const gt = tf.tensor1d(g);
      opt.apply({ w: gt }, lr);
      gt.dispose();
      const t = k + 1;
      for (let i = 0; i < 4; i++) {
        w[i] = w[i]! * (1 - lr * 0.1);
        m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
        s2[i] = 0.999 * s2[i]! + 0.001 * g[i]! * g[i]!;
        const mh = m[i]! / (1 - 0.9 ** t);
        const vh = s2[i]! / (1 - 0.999 ** t);
        w[i] = w[i]! - (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    });
    const got = v.dataSync();
    w.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(1e-6));
    opt.dispose();
    v.dispose();
  });

  it('per-variable learning-rate scales (parameter groups): SGD and AdamW use lr·scale for the listed variables only', () => {
    for (const kind of ['sgd', 'adamw'] as const) {
      const a = tf.variable(tf.tensor1d(w0), true, `${kind}-a`);
      const b = tf.variable(tf.tensor1d(w0), true, `${kind}-b`);
      const scales = new Map([[a.name, 0.1]]);
      const opt = kind === 'sgd' ? sgd([a, b], { momentum: 0.9, weightDecay: 5e-4, lrScales: scales }) : adamw([a, b], { weightDecay: 0.1, lrScales: scales });
      const ref = (rate: number) => {
        const w = [...w0];
        const m = [0, 0, 0, 0];
        const s2 = [0, 0, 0, 0];
        grads.forEach((g, k) => {
          for (let i = 0; i < 4; i++) {
            if (kind === 'sgd') {
              m[i] = 0.9 * m[i]! + g[i]! + 5e-4 * w[i]!;
              w[i] = w[i]! - rate * m[i]!;
            } else {
              w[i] = w[i]! * (1 - rate * 0.1);
              m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
              s2[i] = 0.999 * s2[i]! + 0.001 * g[i]! * g[i]!;
              w[i] = w[i]! - (rate * (m[i]! / (1 - 0.9 ** (k + 1)))) / (Math.sqrt(s2[i]! / (1 - 0.999 ** (k + 1))) + 1e-8);
            }
          }
        });
        return w;
      };
      const lr = 0.05;
      grads.forEach((g) => {
        const [ga, gb] = [tf.tensor1d(g), tf.tensor1d(g)];
        opt.apply({ [a.name]: ga, [b.name]: gb }, lr);
        tf.dispose([ga, gb]);
      });
      const [wa, wb] = [ref(lr * 0.1), ref(lr)];
      a.dataSync().forEach((x, i) => expect(Math.abs(x - wa[i]!), `${kind} scaled`).toBeLessThan(1e-6));
      b.dataSync().forEach((x, i) => expect(Math.abs(x - wb[i]!), `${kind} unscaled`).toBeLessThan(1e-6));
      opt.dispose();
      tf.dispose([a, b]);
    }
  });

  it('clip_grad_norm_ scales by max/(norm+1e-6) only above the limit', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor2d([[0, 4]]);
    const { grads: c, norm } = clipByGlobalNorm({ a, b }, 2.5);
    expect(norm).toBeCloseTo(5, 6);
    const scale = 2.5 / (5 + 1e-6);
    expect(c.a!.dataSync()[0]).toBeCloseTo(3 * scale, 6);
    expect(c.b!.dataSync()[1]).toBeCloseTo(4 * scale, 6);
    const same = clipByGlobalNorm({ a, b }, 10);
    expect(same.grads.a).toBe(a);
    tf.dispose([a, b, c.a!, c.b!]);
  });
});
