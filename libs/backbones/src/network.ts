// A network is defined once, as data: the parameter list (names, shapes, initialisers), its BatchNorm layers
// and its multiply-add count are known without allocating anything (so `facet models` can describe
// IResNet-200 for free); the forward closure looks variables up by name once they exist.
import type { tf } from '@facet/engine';
import type { Init } from './init.js';
import type { FoldCacheEntry } from './layers/fold-batch-norm.js';
import type { Rng } from './rng.js';
import type { ApplyOptions, BatchNormLayer } from './types.js';

export interface ParamSpec {
  /** PyTorch state_dict-style name (layouts are tfjs's: conv HWIO, linear [in, out]). */
  name: string;
  shape: number[];
  init: Init;
  /** Receives gradients. */
  trainable: boolean;
  /** A buffer (BN running statistic), not a parameter. */
  buffer: boolean;
}

export interface BatchNormSpec {
  name: string;
  channels: number;
  eps: number;
  momentum: number;
}

/** What a layer's forward needs at run time. */
export interface ForwardContext {
  readonly training: boolean;
  readonly rng: Rng;
  readonly onBatchNorm: ApplyOptions['onBatchNorm'];
  /** Training-mode BN as one fused tape node (see ApplyOptions.fusedBatchNorm). */
  readonly fusedBatchNorm: boolean;
  /** Training with BN in inference mode (see ApplyOptions.frozenBatchNorm). */
  readonly frozenBatchNorm?: boolean;
  /** SyncBN across data-parallel replicas (see ApplyOptions.batchStatsAllReduce); unset: per-call statistics. */
  readonly batchStatsAllReduce?: ApplyOptions['batchStatsAllReduce'];
  /** Inference with BN folded into the preceding convolution and PReLU fused (see ApplyOptions.foldBatchNorm). */
  readonly foldBatchNorm?: boolean;
  /** Resident folded weights by BN layer name (owned by the backbone; see layers/fold-batch-norm.ts). */
  readonly foldCache?: Map<string, FoldCacheEntry>;
  variable(name: string): tf.Variable;
  batchNorm(name: string): BatchNormLayer;
  /** tf.tidy around a block (frees its intermediates early) unless an onBatchNorm callback must keep its tensors. */
  scope<T extends tf.Tensor>(fn: () => T): T;
}

/** Spatial activation shape [H, W, C] (batch excluded). */
export type MapShape = [number, number, number];

export class NetworkBuilder {
  readonly params: ParamSpec[] = [];
  readonly batchNorms: BatchNormSpec[] = [];
  /** Multiply-adds of one forward of one image. */
  macs = 0;
  private readonly names = new Set<string>();

  param(name: string, shape: number[], init: Init, opts: { trainable?: boolean; buffer?: boolean } = {}): string {
    if (this.names.has(name)) throw new Error(`internal: parameter ${name} defined twice`);
    this.names.add(name);
    this.params.push({ name, shape, init, trainable: opts.trainable ?? !opts.buffer, buffer: opts.buffer ?? false });
    return name;
  }

  addMacs(n: number): void {
    this.macs += n;
  }
}

export interface BuiltNetwork {
  params: ParamSpec[];
  batchNorms: BatchNormSpec[];
  macs: number;
  embeddingSize: number;
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D;
}
