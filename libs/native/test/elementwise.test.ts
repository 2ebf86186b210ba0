// Native element-wise kernels against tfjs's cpu backend: equal shapes, a scalar or per-channel operand on either
// side, and broadcasts handed back to the cpu kernel (which must give the cpu's answer too).
import { describe, expect, it } from 'vitest';
import { addonLoaded, expectNativeMatchesCpu, randomArray, tf } from './helpers.js';

let seed = 900;
const rand = (shape: number[]) => tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed++), shape);
const fresh = <T>(fn: () => T) => () => {
  seed = 900;
  return fn();
};

const PAIRS: Array<[number[], number[]]> = [
  [[4, 5, 6, 8], [4, 5, 6, 8]],
  [[4, 5, 6, 8], [8]],
  [[8], [4, 5, 6, 8]],
  [[4, 5, 6, 8], []],
  [[1, 1, 8], [3, 4, 8]],
  [[3, 4, 8], [4, 8]],
  [[4, 1, 1, 8], [4, 5, 6, 8]], // not a repeat along leading axes: the cpu kernel's case
  [[70, 1000], [70, 1000]], // above the threading threshold
];

describe.skipIf(!addonLoaded)('native element-wise kernels vs cpu', () => {
  const ops: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum], ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference],
  ];
  for (const [name, op] of ops) {
    it(`${name} over equal, scalar, per-channel and general broadcasts`, async () => {
      await expectNativeMatchesCpu(name, fresh(() => PAIRS.map(([sa, sb]) => op(rand(sa), rand(sb)))), 1e-6);
    });
  }

  it('native kernels are registered for the arithmetic and PReLU', () => {
    for (const k of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Prelu']) expect(tf.getKernel(k, 'native')!.kernelFunc).not.toBe(tf.getKernel(k, 'cpu')!.kernelFunc);
  });

  it('int32 arithmetic goes to the cpu kernel', async () => {
    await tf.setBackend('native');
    const y = tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([10, 20, 30], 'int32'));
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([11, 22, 33]);
  });

  it('PReLU forward and its gradient (per-channel, [1, 1, C] and scalar slopes)', async () => {
    await expectNativeMatchesCpu('prelu', fresh(() => {
      const x = rand([3, 5, 6, 8]);
      const outs: tf.Tensor[] = [];
      for (const a of [rand([8]), rand([1, 1, 8]), rand([1])]) {
        outs.push(tf.prelu(x, a));
        const [gx, ga] = tf.grads((u: tf.Tensor, v: tf.Tensor) => tf.prelu(u, v).square().sum())([x, a]);
        outs.push(gx!, ga!);
      }
      return outs;
    }), 1e-6);
  });
});

describe.skipIf(!addonLoaded)('native Reverse vs cpu', () => {
  it('float32 and int32, one or several axes, negative axes', async () => {
    await expectNativeMatchesCpu('reverse', fresh(() => {
      const x = rand([3, 5, 4, 3]);
      const i = tf.range(0, 60, 1, 'int32').reshape([3, 4, 5]);
      return [tf.reverse(x, 2), tf.reverse(x, [1, 2]), tf.reverse(x, [0, 3]), tf.reverse(x, -1), tf.reverse(x, []), tf.reverse(rand([7]), 0),
        tf.reverse(i, [0, 2]).cast('float32'), tf.reverse(i, 1).cast('float32')];
    }), 0);
  });
});

describe.skipIf(!addonLoaded)('native Sum and Mean vs cpu', () => {
  it('leading (BatchNorm statistics), trailing, middle and all axes, keepDims, and the cpu kernel for the rest', async () => {
    await expectNativeMatchesCpu('sum/mean', fresh(() => {
      const x = rand([16, 12, 12, 24]).add(3); // an offset mean, as activations have
      const small = rand([3, 4, 5]);
      return [tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2]), tf.mean(x, [0, 1, 2], true), tf.sum(x, -1), tf.mean(x, 3, true), tf.sum(x, [1, 2]),
        tf.sum(x), tf.mean(x), tf.sum(small, [0, 2]), tf.mean(small, 1), tf.sum(small, 0), tf.sum(tf.range(0, 10, 1, 'int32')).cast('float32')];
    }), 1e-6);
  });
});
