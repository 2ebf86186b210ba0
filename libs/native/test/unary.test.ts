// Element-wise functions of one tensor on the addon against tfjs's cpu kernels: random values incl. negatives,
// ±0, ±Infinity and NaN, sizes below and above the addon's one-thread threshold; NaN where the cpu gives NaN, every
// other value within 2 float32 ulps (transcendentals go through double on both sides, rounded once to float32).
import { describe, expect, it } from 'vitest';
import { addonLoaded, onBackend, randomArray, tf } from './helpers.js';

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 6, 6.5, -6, 88, -88, 100];

function values(n: number, seed: number): Float32Array {
  const v = randomArray(n, seed).map((x, i) => x * (i % 3 === 0 ? 10 : 2));
  SPECIAL.forEach((s, i) => (v[(i * 7919) % n] = s));
  return v;
}

/** Distance in float32 units in the last place (same sign and finite), Infinity when one is NaN and the other not. */
function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  if (a === b) return 0;
  const ia = new Int32Array(new Float32Array([a]).buffer)[0]!;
  const ib = new Int32Array(new Float32Array([b]).buffer)[0]!;
  return Math.sign(a) === Math.sign(b) ? Math.abs(ia - ib) : Infinity;
}

const OPS: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
  ['Exp', tf.exp], ['Log', tf.log], ['Sqrt', tf.sqrt], ['Rsqrt', tf.rsqrt], ['Square', tf.square], ['Abs', tf.abs],
  ['Neg', tf.neg], ['Relu', tf.relu], ['Relu6', tf.relu6], ['Sigmoid', tf.sigmoid], ['Tanh', tf.tanh], ['Reciprocal', tf.reciprocal],
  ['ClipByValue', (x) => tf.clipByValue(x, -0.7, 1.3)], ['LeakyRelu', (x) => tf.leakyRelu(x, 0.2)],
];

describe.skipIf(!addonLoaded)('native unary kernels vs cpu', () => {
  for (const [name, fn] of OPS) {
    it(`${name}: NaN where cpu has NaN, else within 2 ulps (sizes 37 and 70,001)`, async () => {
      expect(tf.getKernel(name, 'native')!.kernelFunc).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
      for (const n of [37, 70_001]) {
        const x = values(n, n + name.length);
        const make = () => [fn(tf.tensor1d(x))];
        const [want] = await onBackend('cpu', make);
        const [got] = await onBackend('native', make);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, ulps(got![i]!, want![i]!));
        expect(worst, `${name} at n = ${n}`).toBeLessThanOrEqual(2);
      }
    });
  }

  it('int32 inputs go to the cpu kernels', async () => {
    const [got] = await onBackend('native', () => [tf.abs(tf.tensor1d([-3, 4, -5], 'int32')).cast('float32')]);
    expect(Array.from(got!)).toEqual([3, 4, 5]);
  });
});
