// A backbone = a built network definition + its tf.Variables (parameters and BN running statistics).
import { tf } from '@facet/engine';
import { initValues } from './init.js';
import type { FoldCacheEntry } from './layers/fold-batch-norm.js';
import type { BuiltNetwork, ForwardContext, ParamSpec } from './network.js';
import { resolveOptions } from './options.js';
import { ARCHITECTURES, findArchitecture, type Architecture } from './registry.js';
import { Rng, seedFor } from './rng.js';
import type { ApplyOptions, Backbone, BackboneInfo, BackboneOptions, BatchNormLayer, ResolvedBackboneOptions } from './types.js';

let instances = 0;

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function counts(params: readonly ParamSpec[]) {
  let parameters = 0;
  let trainable = 0;
  let buffers = 0;
  for (const p of params) {
    const n = sizeOf(p.shape);
    if (p.buffer) buffers += n;
    else parameters += n;
    if (p.trainable) trainable += n;
  }
  return { parameters, trainable, buffers };
}

class TfBackbone implements Backbone {
  readonly embeddingSize: number;
  readonly inputSize: number;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly bnLayers = new Map<string, BatchNormLayer>();
  /** foldBatchNorm's resident folded conv weights (an extra copy of the conv weights once used). */
  private readonly foldCache = new Map<string, FoldCacheEntry>();
  private readonly rng: Rng;
  private readonly counted: ReturnType<typeof counts>;
  private disposed = false;

  constructor(
    readonly name: string,
    readonly options: ResolvedBackboneOptions,
    private readonly net: BuiltNetwork,
  ) {
    this.embeddingSize = net.embeddingSize;
    this.inputSize = options.inputSize;
    this.counted = counts(net.params);
    this.rng = new Rng(seedFor(options.seed, '#training'));
    const id = ++instances;
    try {
      for (const p of net.params) {
        const values = initValues(p.init, sizeOf(p.shape), seedFor(options.seed, p.name));
        // tf.variable names are global in tfjs: make them unique per instance
        const v = tf.tidy(() => tf.variable(tf.tensor(values, p.shape, 'float32'), p.trainable, `${name}#${id}/${p.name}`));
        this.vars.set(p.name, v);
      }
    } catch (e) {
      for (const v of this.vars.values()) v.dispose();
      throw e;
    }
    for (const bn of net.batchNorms) {
      this.bnLayers.set(bn.name, {
        ...bn,
        weight: this.vars.get(`${bn.name}.weight`)!,
        bias: this.vars.get(`${bn.name}.bias`)!,
        runningMean: this.vars.get(`${bn.name}.running_mean`)!,
        runningVar: this.vars.get(`${bn.name}.running_var`)!,
      });
    }
  }

  private alive(): void {
    if (this.disposed) throw new Error(`backbone ${this.name} was disposed`);
  }

  apply(x: tf.Tensor4D, opts: ApplyOptions = {}): tf.Tensor2D {
    this.alive();
    const s = this.inputSize;
    if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3) {
      const got = x instanceof tf.Tensor ? `[${x.shape.join(',')}]` : typeof x;
      throw new Error(
        `${this.name}.apply: expected a [batch, ${s}, ${s}, 3] NHWC RGB tensor normalised as (x − 127.5)/127.5, got ${got}` +
          (x instanceof tf.Tensor && x.rank === 4 && x.shape[1] === 3 ? ' (NCHW? Facet is NHWC)' : ''),
      );
    }
    if (x.dtype !== 'float32') throw new Error(`${this.name}.apply: input must be float32, got ${x.dtype}`);
    if (x.shape[0] < 1) throw new Error(`${this.name}.apply: empty batch`);
    const training = opts.training ?? false;
    if (training && !opts.frozenBatchNorm && x.shape[0] < 2) {
      throw new Error(`${this.name}.apply: training-mode BatchNorm needs a batch of at least 2 (got 1), as in PyTorch`);
    }
    const hook = opts.onBatchNorm;
    if (opts.foldBatchNorm && (training || hook)) {
      throw new Error(`${this.name}.apply: foldBatchNorm is for inference only; drop it when training or when an onBatchNorm callback must see every BN input`);
    }
    const fusedBatchNorm = opts.fusedBatchNorm ?? true;
    if (opts.batchStatsAllReduce && !fusedBatchNorm) {
      throw new Error(`${this.name}.apply: batchStatsAllReduce (synchronized BatchNorm) needs the fused BatchNorm; drop fusedBatchNorm: false`);
    }
    const ctx: ForwardContext = {
      training,
      rng: this.rng,
      onBatchNorm: hook,
      fusedBatchNorm,
      frozenBatchNorm: opts.frozenBatchNorm ?? false,
      batchStatsAllReduce: opts.batchStatsAllReduce,
      foldBatchNorm: opts.foldBatchNorm ?? false,
      foldCache: this.foldCache,
      variable: (n) => this.vars.get(n)!,
      batchNorm: (n) => this.bnLayers.get(n)!,
      scope: hook ? (fn) => fn() : (fn) => tf.tidy(fn),
    };
    return hook ? this.net.forward(x, ctx) : tf.tidy(() => this.net.forward(x, ctx));
  }

  trainableVariables(): tf.Variable[] {
    this.alive();
    return this.net.params.filter((p) => p.trainable).map((p) => this.vars.get(p.name)!);
  }

  batchNorms(): BatchNormLayer[] {
    this.alive();
    return [...this.bnLayers.values()];
  }

  getWeights(): Record<string, tf.Tensor> {
    this.alive();
    return Object.fromEntries(this.vars);
  }

  setWeights(w: Record<string, tf.Tensor | Float32Array>): void {
    this.alive();
    if (w === null || typeof w !== 'object') throw new Error(`${this.name}.setWeights: expected an object of name → tensor`);
    const given = Object.keys(w);
    const missing = this.net.params.filter((p) => !(p.name in w)).map((p) => p.name);
    const unexpected = given.filter((n) => !this.vars.has(n));
    const list = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? `, … (${a.length - 5} more)` : '');
    if (missing.length || unexpected.length) {
      throw new Error(
        `${this.name}.setWeights: the weights do not belong to this architecture/options` +
          (missing.length ? `; missing ${missing.length}: ${list(missing)}` : '') +
          (unexpected.length ? `; unexpected ${unexpected.length}: ${list(unexpected)}` : ''),
      );
    }
    for (const p of this.net.params) {
      const v = w[p.name]!;
      if (v instanceof Float32Array) {
        if (v.length !== sizeOf(p.shape)) {
          throw new Error(`${this.name}.setWeights: ${p.name} has ${v.length} values, expected [${p.shape.join(',')}] = ${sizeOf(p.shape)}`);
        }
      } else if (v instanceof tf.Tensor) {
        if (v.isDisposed) throw new Error(`${this.name}.setWeights: ${p.name} is a disposed tensor`);
        if (v.dtype !== 'float32') throw new Error(`${this.name}.setWeights: ${p.name} must be float32, got ${v.dtype}`);
        if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
          throw new Error(`${this.name}.setWeights: ${p.name} has shape [${v.shape.join(',')}], expected [${p.shape.join(',')}]`);
        }
      } else {
        throw new Error(`${this.name}.setWeights: ${p.name} must be a tf.Tensor or Float32Array`);
      }
    }
    tf.tidy(() => {
      for (const p of this.net.params) {
        const v = w[p.name]!;
        // tensors are immutable in tfjs: sharing the caller's data is safe, later assigns replace it
        this.vars.get(p.name)!.assign(v instanceof Float32Array ? tf.tensor(v, p.shape, 'float32') : v);
      }
    });
  }

  parameterCount(): number {
    return this.counted.parameters;
  }

  trainableParameterCount(): number {
    return this.counted.trainable;
  }

  bufferCount(): number {
    return this.counted.buffers;
  }

  flopsPerImage(): number {
    return 2 * this.net.macs;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.foldCache.values()) tf.dispose([e.filter, e.bias]);
    this.foldCache.clear();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

function build(name: string, options?: BackboneOptions): { arch: Architecture; resolved: ResolvedBackboneOptions; net: BuiltNetwork } {
  const arch = findArchitecture(name);
  const resolved = resolveOptions(arch, options);
  return { arch, resolved, net: arch.build(resolved) };
}

/** Build a backbone with insightface's initialisation (deterministic for a given seed). */
export function createBackbone(name: string, options?: BackboneOptions): Backbone {
  const { arch, resolved, net } = build(name, options);
  return new TfBackbone(arch.name, resolved, net);
}

/** Parameter count, GFLOPs and sizes of an architecture, without allocating any tensor. */
export function describeBackbone(name: string, options?: BackboneOptions): BackboneInfo & { options: ResolvedBackboneOptions } {
  const { arch, resolved, net } = build(name, options);
  const c = counts(net.params);
  return {
    name: arch.name,
    description: arch.description,
    parameters: c.parameters,
    trainableParameters: c.trainable,
    gflops: (2 * net.macs) / 1e9,
    embeddingSize: net.embeddingSize,
    inputSize: resolved.inputSize,
    options: resolved,
  };
}

/** Every registered backbone at its defaults (112×112, embedding 512 — mobilefacenet_orig 128), or with shared options. */
export function listBackbones(options?: Pick<BackboneOptions, 'embeddingSize' | 'inputSize' | 'width'>): BackboneInfo[] {
  return ARCHITECTURES.map((a) => {
    const { options: _o, ...info } = describeBackbone(a.name, options);
    void _o;
    return info;
  });
}
