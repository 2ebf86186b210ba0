import { tf } from './tf.js';

export interface ProbeResult {
  name: string;
  shape: string;
  gflop: number;
  runs: number;
  seconds: number;
  gflops: number;
}

/** Run `fn` (one op producing a tensor) repeatedly for about `budgetMs`, after one warm-up. */
function timeOp(name: string, shape: string, flop: number, budgetMs: number, fn: () => tf.Tensor): ProbeResult {
  fn().dataSync();
  let runs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs || runs === 0) {
    const y = fn();
    y.dataSync();
    y.dispose();
    runs++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { name, shape, gflop: flop / 1e9, runs, seconds, gflops: (flop * runs) / seconds / 1e9 };
}

/** A ~2-second throughput probe: a 512² matmul and an IResNet stage-2 3×3 convolution. */
export function probeThroughput(budgetMs = 2000): ProbeResult[] {
  const half = budgetMs / 2;
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  const x = tf.randomNormal([8, 28, 28, 128]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 128, 128]) as tf.Tensor4D;
  try {
    return [
      timeOp('matmul', '512x512 · 512x512', 2 * 512 ** 3, half, () => tf.matMul(a, b)),
      timeOp('conv2d', '[8,28,28,128] * 3x3x128x128', 2 * 8 * 28 * 28 * 128 * 9 * 128, half, () =>
        tf.conv2d(x, w, 1, 'same'),
      ),
    ];
  } finally {
    tf.dispose([a, b, x, w]);
  }
}
