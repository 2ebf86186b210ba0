// wasm (with Facet's kernels) vs the pure-JS cpu backend at face-recognition shapes, same run; and, when the
// oneDNN addon is built, the native engine (@facet/native) vs wasm on the same shapes.
import { initEngine, tf } from '@facet/sdk';
import { blocking, timeIt, type BenchRow, type Suite } from '../harness.js';

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: number;
}

const convCases: ConvCase[] = [
  { name: 'IResNet stage-1 3x3 64→64', x: [2, 56, 56, 64], k: 3, cout: 64, stride: 1 },
  { name: 'IResNet stage-2 3x3 128→128 s2', x: [2, 56, 56, 128], k: 3, cout: 128, stride: 2 },
  { name: 'IResNet stage-4 3x3 512→512', x: [2, 7, 7, 512], k: 3, cout: 512, stride: 1 },
];

/** Whether the native engine is available (it registers the 'native' backend); wasm is selected again after. */
async function nativeAvailable(): Promise<boolean> {
  const ok = await initEngine({ backend: 'native' }).then(() => true, () => false);
  await initEngine({ backend: 'wasm' });
  return ok;
}

function nativeRow(suiteCase: string, metric: string, gflop: number, n: { median: number; min: number }, w: { median: number; min: number }): BenchRow {
  return {
    suite: 'kernels', case: suiteCase, metric: `native ${metric} GFLOP/s`, facet: gflop / n.median, facetMin: gflop / n.min,
    baseline: gflop / w.median, baselineMin: gflop / w.min, baselineName: 'wasm (Facet kernels, 1 thread)', ratio: w.median / n.median,
  };
}

async function convRows(c: ConvCase, quick: boolean, withNative: boolean): Promise<BenchRow[]> {
  const flopFwd = (x: number[], out: number) => 2 * x[0]! * out * out * c.k * c.k * x[3]! * c.cout;
  const outHW = Math.ceil(c.x[1] / c.stride);
  const gflop = flopFwd(c.x, outHW) / 1e9;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
  const measure = async (backend: string) => {
    await tf.setBackend(backend);
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const w = tf.randomNormal([c.k, c.k, c.x[3], c.cout]) as tf.Tensor4D;
    const dy = tf.randomNormal([c.x[0], outHW, outHW, c.cout]) as tf.Tensor4D;
    // the cpu backend's gradients run at ~0.02–0.7 GFLOP/s (a minute per call at the larger shapes): one untimed
    // warm-up and three repeats of those would take most of the bench's time budget, so the baseline runs once
    const cpu = backend === 'cpu';
    const reps = quick || cpu ? 1 : 3;
    const warm = cpu ? 0 : 1;
    const fwd = await timeIt(blocking(() => tf.conv2d(x, w, c.stride, pad)), reps, warm);
    const dW = await timeIt(blocking(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ww as tf.Tensor4D, c.stride, pad), dy)))(w)), reps, warm);
    const dX = await timeIt(blocking(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, w, c.stride, pad), dy)))(x)), reps, warm);
    tf.dispose([x, w, dy]);
    return { fwd, dW, dX };
  };
  const wasm = await measure('wasm');
  const cpu = await measure('cpu');
  const native = withNative ? await measure('native') : undefined;
  await tf.setBackend('wasm');
  const row = (metric: string, a: { median: number; min: number }, b: { median: number; min: number }, flopMul: number): BenchRow => ({
    suite: 'kernels',
    case: `${c.name} [${c.x}]`,
    metric: `${metric} GFLOP/s`,
    facet: (gflop * flopMul) / a.median,
    facetMin: (gflop * flopMul) / a.min,
    baseline: (gflop * flopMul) / b.median,
    baselineMin: (gflop * flopMul) / b.min,
    baselineName: 'tfjs cpu backend (one run)',
    ratio: b.median / a.median,
  });
  // gradient timings include the forward pass tf.grad records, hence 2× the FLOP
  const rows = [row('conv forward', wasm.fwd, cpu.fwd, 1), row('conv filter-gradient (+fwd)', wasm.dW, cpu.dW, 2), row('conv input-gradient (+fwd)', wasm.dX, cpu.dX, 2)];
  if (native) {
    const name = `${c.name} [${c.x}]`;
    rows.push(nativeRow(name, 'conv forward', gflop, native.fwd, wasm.fwd), nativeRow(name, 'conv filter-gradient (+fwd)', 2 * gflop, native.dW, wasm.dW),
      nativeRow(name, 'conv input-gradient (+fwd)', 2 * gflop, native.dX, wasm.dX));
  }
  return rows;
}

async function matmulRows(quick: boolean, withNative: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cases: Array<[string, number, number, number, boolean, boolean]> = [
    ['embedding head 25088→512, batch 32', 32, 25088, 512, false, false],
    ['ArcFace logits 128×512 · (512×10k)ᵀ', 128, 512, 10000, false, true],
    ['weight gradient xᵀ·dy (25088×32 · 32×512)', 25088, 32, 512, true, false],
  ];
  for (const [name, m, k, n, ta, tb] of cases) {
    const gflop = (2 * m * k * n) / 1e9;
    const measure = async (backend: string) => {
      await tf.setBackend(backend);
      const a = tf.randomNormal(ta ? [k, m] : [m, k]) as tf.Tensor2D;
      const b = tf.randomNormal(tb ? [n, k] : [k, n]) as tf.Tensor2D;
      const t = await timeIt(blocking(() => tf.matMul(a, b, ta, tb)), quick ? 1 : 3);
      tf.dispose([a, b]);
      return t;
    };
    const w = await measure('wasm');
    const c = await measure('cpu');
    const nat = withNative ? await measure('native') : undefined;
    await tf.setBackend('wasm');
    rows.push({ suite: 'kernels', case: name, metric: 'matmul GFLOP/s', facet: gflop / w.median, facetMin: gflop / w.min, baseline: gflop / c.median, baselineMin: gflop / c.min, baselineName: 'tfjs cpu backend', ratio: c.median / w.median });
    if (nat) rows.push(nativeRow(name, 'matmul', gflop, nat, w));
  }
  return rows;
}

export const kernelsSuite: Suite = {
  name: 'kernels',
  description: 'wasm (Facet kernels) vs tfjs cpu, and native (oneDNN) vs wasm: conv forward / filter-gradient / input-gradient, matmul',
  async run({ quick }) {
    const withNative = await nativeAvailable();
    const rows: BenchRow[] = [];
    for (const c of quick ? convCases.slice(0, 1) : convCases) rows.push(...(await convRows(c, quick, withNative)));
    rows.push(...(await matmulRows(quick, withNative)));
    return rows;
  },
};
