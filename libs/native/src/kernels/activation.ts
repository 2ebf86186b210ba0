// Bias + activation of tfjs's fused kernels (FusedConv2D, FusedDepthwiseConv2D, _FusedMatMul), applied in place on
// the native result. Only per-channel (last axis) or scalar bias/slopes are handled natively; anything else
// (another broadcast, elu, sigmoid) makes the caller fall back to the cpu kernel.
import type { NativeAddon } from '../addon.js';
import { f32, size, type CpuBackend, type TensorInfo } from './types.js';

const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4 };

/** Holds C values (or one) along the last axis, every other axis 1. */
function perChannel(t: TensorInfo, C: number): boolean {
  const n = size(t.shape);
  return n === 1 || (n === C && t.shape[t.shape.length - 1] === C);
}

export interface FusedEpilogue {
  bias: Float32Array | null;
  activation: number;
  alpha: Float32Array | null;
  leakyAlpha: number;
}

/** The epilogue in the addon's terms, or undefined when it cannot run natively. */
export function fusedEpilogue(backend: CpuBackend, C: number, inputs: Record<string, TensorInfo | undefined>, attrs: Record<string, unknown>): FusedEpilogue | undefined {
  const activation = ACTIVATIONS[(attrs.activation as string | undefined) ?? 'linear'];
  if (activation === undefined) return undefined;
  const { bias, preluActivationWeights } = inputs;
  let b: Float32Array | null = null;
  if (bias) {
    const v = f32(backend, bias);
    if (!v || !perChannel(bias, C)) return undefined;
    b = v;
  }
  let alpha: Float32Array | null = null;
  if (activation === ACTIVATIONS.prelu) {
    const v = f32(backend, preluActivationWeights);
    if (!v || !perChannel(preluActivationWeights!, C)) return undefined;
    alpha = v;
  }
  return { bias: b, activation, alpha, leakyAlpha: (attrs.leakyreluAlpha as number | undefined) ?? 0.2 };
}

export function applyEpilogue(addon: NativeAddon, y: Float32Array, C: number, e: FusedEpilogue): void {
  if (y.length === 0 || (e.activation === 0 && !e.bias)) return;
  addon.biasActivation(y, e.bias, C, e.activation, e.alpha, e.leakyAlpha);
}
