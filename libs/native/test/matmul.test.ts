// oneDNN matmul (transposes, batch broadcast, fused bias + activation) against tfjs's cpu backend.
import { describe, it } from 'vitest';
import { addonLoaded, expectNativeMatchesCpu, randomArray, tf } from './helpers.js';

let seed = 500;
const rand = (shape: number[]) => tf.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed++), shape);
const fresh = <T>(fn: () => T) => () => {
  seed = 500;
  return fn();
};

describe.skipIf(!addonLoaded)('native matmul vs cpu', () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`MatMul and its gradients, transposeA ${tA}, transposeB ${tB}`, async () => {
      await expectNativeMatchesCpu(`matmul ${tA} ${tB}`, fresh(() => {
        const a = rand(tA ? [37, 13] : [13, 37]);
        const b = rand(tB ? [29, 37] : [37, 29]);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB).square().sum();
        const [ga, gb] = tf.grads(f)([a, b]);
        return [tf.matMul(a, b, tA, tB), ga!, gb!];
      }));
    });
  }

  it('BatchMatMul with equal batches, broadcast batch and rank 4', async () => {
    await expectNativeMatchesCpu('batched', fresh(() => [
      tf.matMul(rand([5, 7, 9]), rand([5, 9, 4])),
      tf.matMul(rand([1, 7, 9]), rand([5, 4, 9]), false, true),
      tf.matMul(rand([6, 9, 7]), rand([9, 3]), true, false),
      tf.matMul(rand([2, 3, 4, 5]), rand([2, 3, 5, 6])),
      tf.matMul(rand([2, 1, 4, 5]), rand([1, 3, 5, 6])), // a broadcast on both sides: the cpu kernel's case
    ]));
  });

  for (const activation of ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid'] as const) {
    it(`_FusedMatMul with bias and ${activation}`, async () => {
      await expectNativeMatchesCpu(`fused matmul ${activation}`, fresh(() => [
        tf.fused.matMul({ a: rand([8, 33]), b: rand([17, 33]), transposeB: true, bias: rand([17]), activation,
          preluActivationWeights: activation === 'prelu' ? rand([17]) : undefined, leakyreluAlpha: 0.25 }),
        tf.fused.matMul({ a: rand([8, 33]), b: rand([33, 5]), bias: rand([8, 5]), activation,
          preluActivationWeights: activation === 'prelu' ? rand([1]) : undefined, leakyreluAlpha: 0.25 }),
      ]));
    });
  }

  it('a wide dense layer: [16, 2048] × [2048, 512]', async () => {
    await expectNativeMatchesCpu('fc', fresh(() => [tf.matMul(rand([16, 2048]), rand([2048, 512]))]));
  });
});
