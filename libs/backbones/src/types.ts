import type { tf } from '@facet/engine';

/** Options every backbone takes. Defaults are insightface's (`get_model(name, dropout=0, num_features=512)`). */
export interface BackboneOptions {
  /** Embedding size D (insightface `num_features`). Default 512 (mobilefacenet_orig: 128, the paper's). */
  embeddingSize?: number;
  /** Square input side in pixels. Default 112. Must leave a non-empty final feature map (ViT: ≥ one patch). */
  inputSize?: number;
  /** Channel multiplier applied to every layer width (0.25 gives CPU-sized test variants). Default 1. */
  width?: number;
  /** IResNet only: dropout before the embedding layer (insightface default 0). */
  dropout?: number;
  /** Seed of the deterministic initialisation and of training-time randomness (dropout, drop-path, masking). */
  seed?: number;
  /** IResNet: blocks per stage (4 numbers). MobileFaceNet: `blocks` of `get_mbf` (4 numbers). */
  blocks?: number[];
  /** ViT only: number of transformer blocks. */
  depth?: number;
  /** ViT only: attention heads (the scaled embedding width is kept divisible by it). */
  heads?: number;
  /** ViT only: patch side (insightface 9 → 12×12 = 144 tokens at 112²). */
  patchSize?: number;
  /** ViT only: stochastic-depth rate at the last block (linear from 0). insightface vit_t/vit_s: 0.1. */
  dropPath?: number;
  /** ViT only: fraction of tokens dropped in training (insightface: 0.1). 0 disables masking. */
  maskRatio?: number;
}

/** The five options every backbone resolves, plus the extras of its family. */
export type ResolvedBackboneOptions = Required<Pick<BackboneOptions, 'embeddingSize' | 'inputSize' | 'width' | 'dropout' | 'seed'>> &
  Pick<BackboneOptions, 'blocks' | 'depth' | 'heads' | 'patchSize' | 'dropPath' | 'maskRatio'>;

/** One BatchNorm layer (2d over N,H,W or 1d over N), PyTorch semantics. */
export interface BatchNormLayer {
  name: string;
  channels: number;
  eps: number;
  /** PyTorch momentum: running = (1 − momentum)·running + momentum·batch. */
  momentum: number;
  /** Non-trainable running statistics (PyTorch buffers); the inversion's BN prior reads them. */
  runningMean: tf.Variable;
  /** Running variance, updated with the unbiased batch variance. */
  runningVar: tf.Variable;
  /** γ (for IResNet's embedding BN1d a non-trainable constant 1, as insightface freezes it). */
  weight: tf.Variable;
  /** β. */
  bias: tf.Variable;
}

export interface ApplyOptions {
  /** Default false: normalise with running stats. true: batch stats, running-stat update, dropout/drop-path/masking. */
  training?: boolean;
  /**
   * Called with every BN layer's *input* during the forward, in forward order (inside any gradient tape): the
   * inversion's BN prior. When set, `apply` runs in the caller's tf scope (no internal tidy) so that tensors the
   * callback creates survive; wrap the call in `tf.tidy` yourself.
   */
  onBatchNorm?: (layer: BatchNormLayer, input: tf.Tensor) => void;
  /**
   * Default true: a training-mode BN is one tape node with its closed-form gradient (far less memory: tfjs keeps
   * every intermediate gradient until the backward pass ends). false: BN as plain tf ops, differentiable to any
   * order (e.g. gradient penalties) — slower and hungrier; the bench uses it as its baseline.
   */
  fusedBatchNorm?: boolean;
  /**
   * Synchronized BatchNorm for data-parallel replicas (each applies the network to its shard of one batch). When
   * set, every training-mode BN passes this replica's per-channel partial sums to the callback, which must replace
   * them in place by their sum over all replicas (every replica calls it in the same order, so an all-reduce that
   * blocks until all have arrived works). Two calls per layer: forward [Σx (C values), Σ(x − x̄)² (C), (Σx)²/n (C),
   * n] with this replica's own mean x̄ and count n; backward [Σdy (C), Σdy·(x − μ) (C)] with the whole batch's mean
   * μ. Batch statistics, running-stat updates and input gradients then equal those
   * of the whole batch on one replica; γ/β gradients stay per replica (summing them over replicas gives the total).
   * Needs the fused BN (the default). Unset (default): ordinary per-call BN.
   */
  batchStatsAllReduce?: BatchStatsAllReduce;
  /**
   * Inference only (training: false, no onBatchNorm): fold every BatchNorm that follows a convolution into it and
   * run the PReLU after it in the same fused kernel (tf.fused.conv2d / depthwiseConv2d). The same function up to
   * float32 rounding, fewer passes over the activation maps (faster embedding extraction). Default false.
   */
  foldBatchNorm?: boolean;
  /**
   * With training: true, every BatchNorm normalises with its running statistics and leaves them unchanged (PyTorch's
   * `model.train()` followed by `bn.eval()` on each BN); γ and β still receive gradients. Fine-tuning an imported
   * network needs this: a BN-folded export has no batch statistics (μ = 0, σ² = 1 − ε), and small fine-tuning batches
   * would otherwise replace the pretrained statistics on the first step. Dropout etc. stay in training mode.
   * Default false.
   */
  frozenBatchNorm?: boolean;
}

/** See ApplyOptions.batchStatsAllReduce: sum `sums` over all replicas, in place. */
export type BatchStatsAllReduce = (sums: Float64Array, layer: BatchNormLayer) => void;

export interface Backbone {
  /** Registry name, e.g. 'iresnet18'. */
  readonly name: string;
  readonly options: ResolvedBackboneOptions;
  readonly embeddingSize: number;
  readonly inputSize: number;
  /** [B,H,W,3] normalised RGB ((x − 127.5)/127.5) → [B,D] raw embedding (not L2-normalised). */
  apply(x: tf.Tensor4D, opts?: ApplyOptions): tf.Tensor2D;
  /** Trainable variables in a stable order (definition order). */
  trainableVariables(): tf.Variable[];
  /** BatchNorm layers in forward order. */
  batchNorms(): BatchNormLayer[];
  /** Every parameter and running statistic by stable PyTorch-style name (views: do not dispose). */
  getWeights(): Record<string, tf.Tensor>;
  /** Replace all weights; names and shapes are validated first (nothing is assigned on error). */
  setWeights(w: Record<string, tf.Tensor | Float32Array>): void;
  /** Parameters as PyTorch counts them (`sum(p.numel() for p in model.parameters())`), BN running stats excluded. */
  parameterCount(): number;
  /** Parameters that receive gradients (IResNet: parameterCount() minus the frozen BN1d γ). */
  trainableParameterCount(): number;
  /** Floats in non-parameter buffers (BN running mean/var). */
  bufferCount(): number;
  /** 2 × multiply-adds of one forward of one image (convolutions, linear layers, attention matmuls). */
  flopsPerImage(): number;
  dispose(): void;
}

/** What the registry says about an architecture without allocating it. */
export interface BackboneInfo {
  name: string;
  description: string;
  /** PyTorch-convention parameter count (see Backbone.parameterCount). */
  parameters: number;
  trainableParameters: number;
  /** GFLOPs (2 × multiply-adds) per image at the given input size. */
  gflops: number;
  embeddingSize: number;
  inputSize: number;
}
