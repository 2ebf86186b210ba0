// Parameter initialisers, named after the PyTorch calls insightface makes.
import { Rng } from './rng.js';

export type Init =
  | { kind: 'constant'; value: number }
  /** nn.init.normal_(w, 0, std) */
  | { kind: 'normal'; std: number }
  /** U(−bound, bound) */
  | { kind: 'uniform'; bound: number }
  /** timm trunc_normal_(w, std, a, b): N(0, std²) redrawn outside the absolute bounds [low, high] */
  | { kind: 'truncatedNormal'; std: number; low: number; high: number };

export const constant = (value: number): Init => ({ kind: 'constant', value });
export const normal = (std: number): Init => ({ kind: 'normal', std });

/**
 * PyTorch's default for nn.Linear / nn.Conv2d weights and biases: kaiming_uniform_(a=√5) gives
 * bound = gain·√(3/fan_in) with gain = √(2/(1+5)), i.e. 1/√fan_in; the bias uses the same bound.
 */
export const torchDefault = (fanIn: number): Init => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn) });

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = √(2/fan_out) (MobileFaceNet). */
export const kaimingNormalFanOut = (fanOut: number): Init => ({ kind: 'normal', std: Math.sqrt(2 / fanOut) });

/** timm trunc_normal_(std=.02) with its default absolute bounds a=−2, b=2 (ViT). */
export const truncatedNormal = (std: number): Init => ({ kind: 'truncatedNormal', std, low: -2, high: 2 });

export function initValues(init: Init, size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  if (init.kind === 'constant') return init.value === 0 ? out : out.fill(init.value);
  const rng = new Rng(seed);
  if (init.kind === 'normal') {
    for (let i = 0; i < size; i++) out[i] = rng.normal() * init.std;
  } else if (init.kind === 'uniform') {
    for (let i = 0; i < size; i++) out[i] = (2 * rng.next() - 1) * init.bound;
  } else {
    for (let i = 0; i < size; i++) {
      let v = rng.normal() * init.std;
      while (v < init.low || v > init.high) v = rng.normal() * init.std;
      out[i] = v;
    }
  }
  return out;
}
