// Loads the oneDNN addon built by scripts/build-addon.mjs (build/Release/facet_native.node). Loading never throws:
// without the addon Facet runs on wasm, and `nativeStatus()` says why and how to enable it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's functions (addon/*.cc). Buffers are the cpu backend's own Float32Arrays, read and written in place. */
export interface NativeAddon {
  info(): AddonInfo;
  setThreads(n: number): void;
  /** mode 0: dst = conv(src, weights); 1: src = ∂/∂src given dst = ∂y; 2: weights = ∂/∂weights. `geometry` is
   * [N, H, W, C, KH, KW, G, OCg, OH, OW, sh, sw, dh, dw, pt, pb, pl, pr]. */
  conv(mode: 0 | 1 | 2, src: Float32Array, weights: Float32Array, dst: Float32Array, geometry: number[], weightsToken?: number): void;
  /** Free the forward weights cached under `token` (conv's weightsToken: the same weights, reordered once). */
  dropWeights(token: number): void;
  /** c = op(a)·op(b); dims [Ba, Bb, M, K, N, transposeA, transposeB]. */
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, dims: number[]): void;
  batchNormTraining(x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number, y: Float32Array, mean: Float32Array, variance: Float32Array, invStd: Float32Array): void;
  batchNormTrainingGrad(x: Float32Array, dy: Float32Array, mean: Float32Array, invStd: Float32Array, gamma: Float32Array, dx: Float32Array, dGamma: Float32Array, dBeta: Float32Array): void;
  preluGrad(x: Float32Array, dy: Float32Array, alpha: Float32Array, dx: Float32Array, dAlpha: Float32Array): void;
  /** In place: y = act(y + bias); activation 0 linear, 1 relu, 2 relu6, 3 prelu (alpha), 4 leakyrelu (leakyAlpha). */
  biasActivation(y: Float32Array, bias: Float32Array | null, C: number, activation: number, alpha: Float32Array | null, leakyAlpha: number): void;
  /** out = a op b (0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 squared difference); the shorter operand repeats. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out = op(x): 0 exp, 1 log, 2 sqrt, 3 rsqrt, 4 square, 5 abs, 6 neg, 7 relu, 8 relu6, 9 sigmoid, 10 tanh,
   * 11 reciprocal, 12 clip to [a, b], 13 leaky relu with slope a. */
  unary(op: number, x: Float32Array, out: Float32Array, a: number, b: number): void;
  /** out = x > 0 ? x : α·x, α repeating along x. */
  prelu(x: Float32Array, alpha: Float32Array, out: Float32Array): void;
  /** out = x with `axes` reversed (4-byte values: float32, or int32 viewed as float32). */
  reverse(x: Float32Array, out: Float32Array, shape: number[], axes: number[]): void;
  /** x viewed as [A, B, C]: out[a, c] = Σ_b x[a, b, c] / divisor (float64 sums). */
  sum(x: Float32Array, out: Float32Array, dims: [number, number, number], divisor: number): void;
  /** torch.optim.SGD: g' = g + λ·w; buf' = μ·buf + g'; w' = w − lr·buf' (no buf: w' = w − lr·g'). */
  sgdUpdate(w: Float32Array, g: Float32Array, buf: Float32Array | null, wOut: Float32Array, bufOut: Float32Array | null, lr: number, momentum: number, weightDecay: number): void;
}

export interface AddonInfo {
  /** oneDNN's version, e.g. "2.6.3". */
  version: string;
  /** The instruction set oneDNN dispatches to on this CPU (dnnl_get_effective_cpu_isa), e.g. "avx512_core". */
  isa: string;
  /** OpenMP threads used by oneDNN and the channel loops. */
  threads: number;
  /** Buffers the addon holds right now (scratchpad + per-call weight copies): flat across training steps. */
  liveAllocations: number;
  /** Primitives cached by shape. */
  cachedPrimitives: number;
  /** Forward weights held in a primitive's layout (one per live filter tensor and shape). */
  cachedWeights: number;
  /** Implementations oneDNN chose so far, per primitive kind (e.g. conv_fwd: ["brgconv:avx512_core"]). */
  impls: Record<string, string[]>;
}

export type NativeStatus = { loaded: true; path: string; info: AddonInfo } | { loaded: false; reason: string };

export const ENABLE_HINT = 'apt-get install libdnnl-dev, then rebuild with `node libs/native/scripts/build-addon.mjs`';
export const ADDON_PATH = fileURLToPath(new URL('../build/Release/facet_native.node', import.meta.url));

let cached: { addon?: NativeAddon; status: NativeStatus } | undefined;

function load(): { addon?: NativeAddon; status: NativeStatus } {
  if (cached) return cached;
  if (process.env.FACET_NATIVE_DISABLE === '1') {
    cached = { status: { loaded: false, reason: 'disabled by FACET_NATIVE_DISABLE=1' } };
  } else if (!existsSync(ADDON_PATH)) {
    cached = { status: { loaded: false, reason: `addon not built (${ADDON_PATH} missing); to enable: ${ENABLE_HINT}` } };
  } else {
    // OpenMP threads that spin while waiting (libgomp's default) starve everything else on a shared or busy
    // machine: measured on 2 loaded cores, BatchNorm took 37 ms spinning vs 2.4 ms passive. Set before libgomp
    // loads; an explicit OMP_WAIT_POLICY wins.
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
    try {
      const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
      cached = { addon, status: { loaded: true, path: ADDON_PATH, info: addon.info() } };
    } catch (e) {
      const first = (e as Error).message.split('\n')[0];
      cached = { status: { loaded: false, reason: `addon failed to load (${first}); to enable: ${ENABLE_HINT}` } };
    }
  }
  return cached;
}

/** Whether the addon loaded, and if not, one line saying why and how to enable it. */
export function nativeStatus(): NativeStatus {
  const { addon, status } = load();
  return addon && status.loaded ? { ...status, info: addon.info() } : status;
}

/** The loaded addon; throws the one-line reason when it is not available. */
export function nativeAddon(): NativeAddon {
  const { addon, status } = load();
  if (!addon) throw new Error(`@facet/native: ${(status as { reason: string }).reason}`);
  return addon;
}
