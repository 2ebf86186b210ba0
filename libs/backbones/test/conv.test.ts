// Convolutions follow PyTorch's geometry (symmetric padding, floor output size) and grouped-conv semantics;
// checked against a float64 loop over a PyTorch-layout weight [out, in/groups, k, k].
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '@facet/engine';
import { conv2d } from '../src/layers/conv.js';
import { NetworkBuilder } from '../src/network.js';
import { materialize } from './layer-harness.js';
import { maxAbs, maxAbsDiff, randomArray } from './helpers.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

/** torch.nn.functional.conv2d on NHWC input with an OIHW weight, float64. */
function torchConv(x: Float32Array, [n, h, w, c]: number[], wt: Float32Array, out: number, k: number, stride: number, pad: number, groups: number) {
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const inPer = c / groups;
  const outPer = out / groups;
  const y = new Float64Array(n * oh * ow * out);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < out; o++) {
          const g = Math.floor(o / outPer);
          let acc = 0;
          for (let ci = 0; ci < inPer; ci++)
            for (let a = 0; a < k; a++)
              for (let bb = 0; bb < k; bb++) {
                const yy = i * stride - pad + a;
                const xx = j * stride - pad + bb;
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                acc += x[((b * h + yy) * w + xx) * c + g * inPer + ci]! * wt[((o * inPer + ci) * k + a) * k + bb]!;
              }
          y[((b * oh + i) * ow + j) * out + o] = acc;
        }
  return { y, shape: [n, oh, ow, out] };
}

/** The documented mapping of a PyTorch weight into Facet's layout (HWIO, or [k,k,in,out/groups] when grouped). */
function toFacetLayout(wt: Float32Array, out: number, c: number, k: number, groups: number): Float32Array {
  const inPer = c / groups;
  const outPer = out / groups;
  const res = new Float32Array(wt.length);
  for (let o = 0; o < out; o++)
    for (let ci = 0; ci < inPer; ci++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          const v = wt[((o * inPer + ci) * k + a) * k + b]!;
          const g = Math.floor(o / outPer);
          const i = g * inPer + ci;
          const idx = groups === 1 ? ((a * k + b) * c + i) * out + o : ((a * k + b) * c + i) * outPer + (o % outPer);
          res[idx] = v;
        }
  return res;
}

const cases = [
  { name: 'dense 3×3 stride 2 pad 1 on an even size (IResNet conv2)', shape: [2, 8, 8, 4], out: 6, k: 3, stride: 2, pad: 1, groups: 1 },
  { name: 'dense 1×1 stride 2 (IResNet downsample)', shape: [2, 7, 7, 4], out: 5, k: 1, stride: 2, pad: 0, groups: 1 },
  { name: 'grouped 3×3, 2 channels per group (MobileFaceNet groups=64 layer)', shape: [2, 6, 6, 8], out: 8, k: 3, stride: 1, pad: 1, groups: 4 },
  { name: 'grouped, 3 inputs and 2 outputs per group, stride 2', shape: [1, 7, 7, 6], out: 4, k: 3, stride: 2, pad: 1, groups: 2 },
  { name: 'depthwise 3×3 stride 2', shape: [2, 6, 6, 5], out: 5, k: 3, stride: 2, pad: 1, groups: 5 },
  { name: 'global depthwise (GDC) 4×4 valid', shape: [3, 4, 4, 6], out: 6, k: 4, stride: 1, pad: 0, groups: 6 },
];

describe('conv2d with PyTorch semantics', () => {
  for (const c of cases) {
    it(`${c.name}: forward and input/filter gradients`, async () => {
      const [n, h, w, ch] = c.shape as [number, number, number, number];
      const b = new NetworkBuilder();
      const layer = conv2d(b, 'c', [h, w, ch], { outChannels: c.out, kernel: c.k, stride: c.stride, padding: c.pad, groups: c.groups, init: () => ({ kind: 'constant', value: 0 }) });
      const m = materialize(b);
      const x = randomArray(n * h * w * ch, 3);
      const wt = randomArray((c.out * ch * c.k * c.k) / c.groups, 4);
      m.vars.get('c.weight')!.assign(tf.tensor(toFacetLayout(wt, c.out, ch, c.k, c.groups), m.vars.get('c.weight')!.shape));
      const ref = torchConv(x, c.shape, wt, c.out, c.k, c.stride, c.pad, c.groups);
      expect(layer.outShape).toEqual(ref.shape.slice(1));
      const xt = tf.tensor4d(x, [n, h, w, ch]);
      const y = layer.apply(xt, m.ctx(false));
      expect(y.shape).toEqual(ref.shape);
      expect(maxAbsDiff(y.dataSync(), ref.y)).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.y)));
      // gradients on wasm (Facet's kernels) against the cpu backend
      const r = tf.tensor(randomArray(y.size, 5), y.shape);
      const loss = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx as tf.Tensor4D, m.ctx(false)), r)) as tf.Scalar;
      const wv = m.vars.get('c.weight')!;
      const grads = () => {
        const dx = tf.grad(loss)(xt);
        const { grads: g } = tf.variableGrads(() => loss(xt), [wv]);
        return [dx.dataSync().slice(), g[wv.name]!.dataSync().slice()];
      };
      const wasm = tf.tidy(() => grads());
      await tf.setBackend('cpu');
      expect(tf.getBackend()).toBe('cpu');
      const cpu = tf.tidy(() => grads());
      await tf.setBackend('wasm');
      wasm.forEach((g, i) => expect(maxAbsDiff(g, cpu[i]!)).toBeLessThan(1e-4 * Math.max(1, maxAbs(cpu[i]!))));
      tf.dispose([xt, y, r]);
      m.dispose();
    });
  }
});
