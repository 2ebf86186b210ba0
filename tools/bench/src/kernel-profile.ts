// Per-kernel self time of one synchronous step on the wasm engine. tf.profile records every kernel but (a) reads
// every output back to check it for NaN (copies gigabytes on a training step) and (b) reports inclusive times, so a
// Facet kernel that runs other kernels inside (conv gradients, BN reductions) would be counted twice. Here the
// engine's kernel profiler is wrapped for the duration of one step: each kernel's own time excludes the kernels it
// ran, and nothing is read back. wasm kernels are synchronous, so wall time per kernel is its cost.
import { tf } from '@facet/sdk';
import { fmt, markdownTable } from './harness.js';

export interface KernelStat {
  kernel: string;
  /** Self time in seconds (children excluded). */
  seconds: number;
  calls: number;
  /** Floating-point operations counted for convolutions and matmuls (0 for others). */
  flop: number;
}

export interface KernelProfile {
  /** Wall time of the whole step (s). */
  stepSeconds: number;
  kernels: KernelStat[];
}

interface ProfilerLike {
  profileKernel(name: string, inputs: Record<string, tf.Tensor>, f: () => tf.Tensor[]): unknown;
}

/**
 * FLOPs of the kernels that dominate training, from their named inputs and output shapes (attrs are not visible
 * here): Conv2D {x, filter}, Conv2DBackpropInput {dy, filter}, Conv2DBackpropFilter {x, dy} → filter,
 * depthwise alike, BatchMatMul {a, b}.
 */
function flopOf(kernel: string, t: Record<string, tf.Tensor | undefined>, outputs: tf.Tensor[]): number {
  const out = outputs[0];
  if (!out) return 0;
  switch (kernel) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const [kh, kw, cin] = t.filter!.shape;
      return 2 * out.size * kh! * kw! * cin!;
    }
    case 'Conv2DBackpropInput': {
      // the same multiply-adds as the forward that produced dy
      const [kh, kw, cin] = t.filter!.shape;
      return 2 * t.dy!.size * kh! * kw! * cin!;
    }
    case 'Conv2DBackpropFilter': {
      const [kh, kw, cin] = out.shape;
      return 2 * t.dy!.size * kh! * kw! * cin!;
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D':
      return 2 * out.size * t.filter!.shape[0]! * t.filter!.shape[1]!;
    case 'DepthwiseConv2dNativeBackpropInput':
      return 2 * t.dy!.size * t.filter!.shape[0]! * t.filter!.shape[1]!;
    case 'DepthwiseConv2dNativeBackpropFilter':
      return 2 * t.dy!.size * out.shape[0]! * out.shape[1]!;
    case 'BatchMatMul':
    case '_FusedMatMul': {
      // out [..., M, N]; a holds batch·M·K values whatever its transpose, so K = a.size·N / out.size
      const n = out.shape[out.shape.length - 1]!;
      return 2 * t.a!.size * n;
    }
    default:
      return 0;
  }
}

function safeFlopOf(kernel: string, inputs: Record<string, tf.Tensor>, outputs: tf.Tensor[]): number {
  try {
    const f = flopOf(kernel, inputs, outputs);
    return Number.isFinite(f) ? f : 0;
  } catch {
    return 0; // an input under another name: no FLOP count, the time is still recorded
  }
}

/** Run `step` once with per-kernel self times recorded. */
export async function profileKernels(step: () => void): Promise<KernelProfile> {
  const engine = tf.engine() as unknown as { profiler: ProfilerLike };
  const profiler = engine.profiler;
  const original = profiler.profileKernel;
  const stats = new Map<string, KernelStat>();
  const childTime: number[] = [];
  const checkWas = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  profiler.profileKernel = (kernelName, inputs, f) => {
    childTime.push(0);
    const t0 = performance.now();
    const outputs = f();
    const dt = performance.now() - t0;
    const children = childTime.pop()!;
    if (childTime.length) childTime[childTime.length - 1]! += dt;
    const s = stats.get(kernelName) ?? { kernel: kernelName, seconds: 0, calls: 0, flop: 0 };
    s.seconds += (dt - children) / 1000;
    s.calls++;
    s.flop += safeFlopOf(kernelName, inputs, outputs);
    stats.set(kernelName, s);
    return { kernelName, outputs, inputs, timeMs: Promise.resolve(dt), extraInfo: Promise.resolve('') };
  };
  const t0 = performance.now();
  try {
    await tf.profile(step);
  } finally {
    profiler.profileKernel = original;
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', checkWas);
  }
  const stepSeconds = (performance.now() - t0) / 1000;
  return { stepSeconds, kernels: [...stats.values()].sort((a, b) => b.seconds - a.seconds) };
}

/** Markdown: the top kernels by self time, their share of the step and GFLOP/s where counted. */
export function kernelProfileTable(p: KernelProfile, top = 12): string {
  const inKernels = p.kernels.reduce((a, k) => a + k.seconds, 0);
  const rows = p.kernels.slice(0, top).map((k) => [
    k.kernel,
    fmt(k.seconds),
    `${((100 * k.seconds) / p.stepSeconds).toFixed(1)} %`,
    k.calls,
    k.flop ? fmt(k.flop / 1e9 / k.seconds) : '',
  ]);
  const rest = p.kernels.slice(top).reduce((a, k) => a + k.seconds, 0);
  rows.push([`${Math.max(0, p.kernels.length - top)} other kernels`, fmt(rest), `${((100 * rest) / p.stepSeconds).toFixed(1)} %`, '', '']);
  rows.push(['outside kernels (JS: tape, host head, optimizer glue)', fmt(p.stepSeconds - inKernels), `${((100 * (p.stepSeconds - inKernels)) / p.stepSeconds).toFixed(1)} %`, '', '']);
  return markdownTable(['kernel (wasm)', 'self s', 'share', 'calls', 'GFLOP/s'], rows);
}
