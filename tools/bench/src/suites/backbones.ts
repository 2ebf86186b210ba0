// IResNet-18 and MobileFaceNet at 112×112 on wasm: forward (inference) and forward+backward (training-mode BN,
// gradients of every trainable variable) images/s. Baselines measured in the same run:
// - forward: the pure-JS tfjs cpu backend at batch 1 (per image);
// - forward+backward: the same wasm backend with BatchNorm differentiated op by op by tfjs
//   (`fusedBatchNorm: false`), at the smaller chunk that fits its larger memory. The cpu backend is no usable
//   baseline here: one MobileFaceNet step at batch 2 took ~3 minutes on the dev machine.
// Batch 32 training does not fit the 4 GiB wasm heap (tfjs keeps every intermediate gradient until the backward
// pass ends): it runs as gradient accumulation over chunks, noted in each row.
import { createBackbone, initEngine, tf, type Backbone } from '@facet/sdk';
import { timeIt, type BenchRow, type Suite, type Timing } from '../harness.js';

const SIZE = 112;

function heapGiB(): number | undefined {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return wasm?.HEAPU8 ? wasm.HEAPU8.length / 2 ** 30 : undefined;
}

function images(batch: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.randomNormal([batch, SIZE, SIZE, 3], 0, 0.5, 'float32', 7), -1, 1)) as tf.Tensor4D;
}

function forward(net: Backbone, x: tf.Tensor4D): () => void {
  return () => {
    const y = net.apply(x);
    y.dataSync();
    y.dispose();
  };
}

/** One optimizer-free training step over `total` images in chunks: gradients accumulated, then disposed. */
function trainStep(net: Backbone, chunks: tf.Tensor4D[], fusedBatchNorm: boolean): () => void {
  return () => {
    const vars = net.trainableVariables();
    let acc: Record<string, tf.Tensor> | undefined;
    for (const x of chunks) {
      // a stand-in loss on the embedding: the margin head's cost is negligible next to the backbone's
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.apply(x, { training: true, fusedBatchNorm }))) as tf.Scalar, vars);
      value.dispose();
      if (!acc) acc = grads;
      else {
        const prev: Record<string, tf.Tensor> = acc;
        acc = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.add(prev[k]!, g)]));
        tf.dispose([...Object.values(prev), ...Object.values(grads)]);
      }
    }
    Object.values(acc!)[0]!.dataSync();
    tf.dispose(Object.values(acc!));
  };
}

/** Images/s at the median time, and at the best (min) time as the other suites report it. */
const perImage = (t: Timing, n: number) => ({ median: n / t.median, min: n / t.min });

async function rowsFor(name: 'iresnet18' | 'mobilefacenet', quick: boolean): Promise<BenchRow[]> {
  const batch = quick ? 8 : 32;
  const chunk = 8;
  const baselineChunk = 4;
  await tf.setBackend('wasm');
  const net = createBackbone(name);
  const gflop = net.flopsPerImage() / 1e9;

  // forward, wasm, batch 32
  const x = images(batch);
  const fwd = await timeIt(forward(net, x), quick ? 1 : name === 'iresnet18' ? 2 : 3, name === 'iresnet18' || quick ? 0 : 1);
  x.dispose();
  // forward baseline: cpu backend, batch 1
  await tf.setBackend('cpu');
  const x1 = images(1);
  const fwdCpu = await timeIt(forward(net, x1), 1, 0);
  x1.dispose();
  await tf.setBackend('wasm');

  // forward+backward, wasm, fused BN, batch 32 as chunks of 8 (one warm-up chunk first)
  const chunks = Array.from({ length: batch / chunk }, () => images(chunk));
  if (!quick) trainStep(net, chunks.slice(0, 1), true)();
  const train = await timeIt(trainStep(net, chunks, true), 1, 0);
  const heapAfterFused = heapGiB();
  tf.dispose(chunks);
  // baseline: plain-op BN gradient, 2 chunks of 4
  const small = Array.from({ length: 2 }, () => images(baselineChunk));
  if (!quick) trainStep(net, small.slice(0, 1), false)();
  const trainPlain = await timeIt(trainStep(net, small, false), 1, 0);
  tf.dispose(small);
  const heap = heapGiB();
  net.dispose();

  const f = perImage(fwd, batch);
  const fc = perImage(fwdCpu, 1);
  const t = perImage(train, batch);
  const tp = perImage(trainPlain, 2 * baselineChunk);
  const heapNote = heapAfterFused !== undefined ? `; wasm heap high-water ${heapAfterFused.toFixed(2)} GiB (${heap!.toFixed(2)} after the baseline)` : '';
  return [
    {
      suite: 'backbones',
      case: `${name} 112² (${gflop.toFixed(2)} GFLOP/img)`,
      metric: `forward img/s, batch ${batch}`,
      facet: f.median,
      facetMin: f.min,
      baseline: fc.median,
      baselineMin: fc.min,
      baselineName: 'tfjs cpu backend, batch 1',
      ratio: f.median / fc.median,
      note: `inference-mode BN; ${(f.median * gflop).toFixed(1)} GFLOP/s on wasm`,
    },
    {
      suite: 'backbones',
      case: `${name} 112² (${gflop.toFixed(2)} GFLOP/img)`,
      metric: `forward+backward img/s, batch ${batch}`,
      facet: t.median,
      facetMin: t.min,
      baseline: tp.median,
      baselineMin: tp.min,
      baselineName: `wasm, BN differentiated op by op, chunks of ${baselineChunk}`,
      ratio: t.median / tp.median,
      note: `training-mode BN (fused gradient); batch ${batch} as ${batch / chunk} accumulated chunks of ${chunk} (batch 32 does not fit the 4 GiB wasm heap)${heapNote}`,
    },
  ];
}

export const backbonesSuite: Suite = {
  name: 'backbones',
  description: 'IResNet-18 and MobileFaceNet at 112×112 on wasm: forward and forward+backward images/s',
  async run({ quick }) {
    await initEngine({ backend: 'wasm' });
    return [...(await rowsFor('mobilefacenet', quick)), ...(await rowsFor('iresnet18', quick))];
  },
};
