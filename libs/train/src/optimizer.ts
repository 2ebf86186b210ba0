// Backbone optimizers with PyTorch's exact semantics (insightface trains with torch.optim.SGD / AdamW), and
// state that can be checkpointed. tfjs's own optimizers differ (no coupled weight decay, other Adam epsilon
// placement) and do not expose their state in a stable way.
import { tf } from '@facet/engine';
import type { TrainConfig } from './config.js';

export interface OptimizerState {
  kind: 'sgd' | 'adamw';
  step: number;
  slots: Record<string, Float32Array>;
}

export interface BackboneOptimizer {
  /** Apply one update with this step's learning rate; `grads` by variable name. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void;
  getState(): OptimizerState;
  setState(s: OptimizerState): void;
  dispose(): void;
}

/** Name of @facet/native's fused SGD kernel, registered on the native backend only. */
const SGD_UPDATE_KERNEL = 'FacetSgdUpdate';

function slot(map: Map<string, tf.Variable>, v: tf.Variable, tag: string): tf.Variable {
  const key = `${v.name}/${tag}`;
  let s = map.get(key);
  if (!s) {
    s = tf.variable(tf.zerosLike(v), false);
    map.set(key, s);
  }
  return s;
}

function exportSlots(map: Map<string, tf.Variable>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of map) out[k] = v.dataSync() as Float32Array;
  return out;
}

function importSlots(map: Map<string, tf.Variable>, vars: tf.Variable[], slots: Record<string, Float32Array>): void {
  for (const v of map.values()) v.dispose();
  map.clear();
  const byName = new Map(vars.map((v) => [v.name, v]));
  for (const [key, data] of Object.entries(slots)) {
    const name = key.slice(0, key.lastIndexOf('/'));
    const v = byName.get(name);
    if (!v) throw new Error(`optimizer state names variable "${name}", which this model does not have`);
    if (data.length !== v.size) throw new Error(`optimizer state for "${name}" has ${data.length} values, the variable ${v.size}`);
    map.set(key, tf.variable(tf.tensor(data, v.shape), false));
  }
}

/**
 * Learning-rate multipliers by variable name (PyTorch parameter groups with their own lr, e.g. a fine-tuned backbone
 * at 0.1× the new head's rate); a variable not listed runs at the full rate.
 */
export type LrScales = ReadonlyMap<string, number>;

/** torch.optim.SGD(momentum, weight_decay, dampening=0): g ← g + wd·w; buf ← μ·buf + g; w ← w − lr·buf. */
export function sgd(vars: tf.Variable[], opts: { momentum: number; weightDecay: number; lrScales?: LrScales }): BackboneOptimizer {
  const slots = new Map<string, tf.Variable>();
  let step = 0;
  return {
    apply(grads, lr) {
      // the native engine's one-pass update (@facet/native FacetSgdUpdate): same float32 operations in the same order
      const fused = tf.getKernel(SGD_UPDATE_KERNEL, tf.getBackend()) !== undefined;
      tf.tidy(() => {
        for (const v of vars) {
          const g0 = grads[v.name];
          if (!g0) continue;
          if (fused) {
            const buf = opts.momentum ? slot(slots, v, 'momentum') : undefined;
            const attrs = { lr: lr * (opts.lrScales?.get(v.name) ?? 1), momentum: opts.momentum, weightDecay: opts.weightDecay };
            const [w, b] = tf.engine().runKernel(SGD_UPDATE_KERNEL, buf ? { w: v, g: g0, buf } : { w: v, g: g0 }, attrs) as unknown as tf.Tensor[];
            if (buf) buf.assign(b!);
            v.assign(w!);
            continue;
          }
          const g = opts.weightDecay ? tf.add(g0, tf.mul(v, opts.weightDecay)) : g0;
          const rate = lr * (opts.lrScales?.get(v.name) ?? 1);
          if (opts.momentum) {
            const buf = slot(slots, v, 'momentum');
            // PyTorch initialises the buffer with the first gradient; μ·0 + g is the same thing.
            buf.assign(tf.add(tf.mul(buf, opts.momentum), g));
            v.assign(tf.sub(v, tf.mul(buf, rate)));
          } else {
            v.assign(tf.sub(v, tf.mul(g, rate)));
          }
        }
      });
      step++;
    },
    getState: () => ({ kind: 'sgd', step, slots: exportSlots(slots) }),
    setState(s) {
      if (s.kind !== 'sgd') throw new Error(`optimizer state is ${s.kind}, this run uses sgd`);
      importSlots(slots, vars, s.slots);
      step = s.step;
    },
    dispose() {
      for (const v of slots.values()) v.dispose();
      slots.clear();
    },
  };
}

/** torch.optim.AdamW: w ← w − lr·wd·w; m,v moments; w ← w − lr·m̂/(√v̂ + ε). */
export function adamw(vars: tf.Variable[], opts: { weightDecay: number; beta1?: number; beta2?: number; eps?: number; lrScales?: LrScales }): BackboneOptimizer {
  const b1 = opts.beta1 ?? 0.9;
  const b2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const slots = new Map<string, tf.Variable>();
  let step = 0;
  return {
    apply(grads, lr) {
      step++;
      const c1 = 1 - Math.pow(b1, step);
      const c2 = 1 - Math.pow(b2, step);
      tf.tidy(() => {
        for (const v of vars) {
          const g = grads[v.name];
          if (!g) continue;
          const m = slot(slots, v, 'm');
          const s = slot(slots, v, 'v');
          m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
          s.assign(tf.add(tf.mul(s, b2), tf.mul(tf.square(g), 1 - b2)));
          const rate = lr * (opts.lrScales?.get(v.name) ?? 1);
          const decayed = opts.weightDecay ? tf.mul(v, 1 - rate * opts.weightDecay) : v;
          const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(s, c2)), eps));
          v.assign(tf.sub(decayed, tf.mul(update, rate)));
        }
      });
    },
    getState: () => ({ kind: 'adamw', step, slots: exportSlots(slots) }),
    setState(s) {
      if (s.kind !== 'adamw') throw new Error(`optimizer state is ${s.kind}, this run uses adamw`);
      importSlots(slots, vars, s.slots);
      step = s.step;
    },
    dispose() {
      for (const v of slots.values()) v.dispose();
      slots.clear();
    },
  };
}

/**
 * torch.nn.utils.clip_grad_norm_(params, maxNorm): scale all gradients by maxNorm/(‖g‖₂ + 1e-6) when the global
 * norm exceeds maxNorm. Returns the clipped gradients (new tensors; the caller disposes both sets) and the norm.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
  if (!(maxNorm > 0) || !(norm > maxNorm)) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
  return { grads: out, norm };
}

/** The optimizer a config asks for, over `vars` (insightface: SGD momentum 0.9, wd 5e-4; AdamW for ViT). */
export function makeOptimizer(cfg: Pick<TrainConfig, 'optimizer' | 'momentum' | 'weightDecay'>, vars: tf.Variable[], lrScales?: LrScales): BackboneOptimizer {
  return cfg.optimizer === 'sgd' ? sgd(vars, { momentum: cfg.momentum, weightDecay: cfg.weightDecay, lrScales }) : adamw(vars, { weightDecay: cfg.weightDecay, lrScales });
}
