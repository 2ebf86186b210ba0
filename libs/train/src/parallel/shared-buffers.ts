// The shared memory of a replica group: one SharedArrayBuffer per region, created by the main thread and handed to
// every worker, so batches, embeddings, their gradients and the backbone gradients cross threads without
// postMessage copies (the notes measured 1.75× for two workers with shared buffers vs 1.2× with copies).

/** Int32 control words (Atomics). */
export const CTL = {
  /** Workers arrived at the current barrier. */
  barrierCount: 0,
  /** Barrier generation: bumped by the last worker to arrive, which wakes the others. */
  barrierGeneration: 1,
  /** Non-zero once any thread gave up (error, shutdown): every wait throws instead of blocking forever. */
  abort: 2,
  /** Step whose dL/d(embeddings) the main thread has published. */
  gradientSeq: 3,
  length: 4,
} as const;

export interface BufferSizes {
  workers: number;
  batchSize: number;
  inputSize: number;
  embeddingSize: number;
  twoViews: boolean;
  /** Trainable backbone parameters (floats). */
  parameters: number;
  /** Longest vector a BN all-reduce carries: 3·(widest BN) + 1. */
  statLength: number;
}

/** Regions as SharedArrayBuffers (what travels in workerData). */
export interface SharedRegions {
  control: SharedArrayBuffer;
  /** Main → workers: the step's loss (float64), for the finite-step decision every replica makes. */
  scalars: SharedArrayBuffer;
  /** BN partial sums, double-buffered by call parity: [2][workers][statLength] float64. */
  stats: SharedArrayBuffer;
  /** The NHWC batch [B, S, S, 3], and its second view for two-view objectives. */
  images: SharedArrayBuffer;
  images2?: SharedArrayBuffer;
  /** Embeddings [B, D] written by the replicas (each its rows), and their gradients written by the main thread. */
  embeddings: SharedArrayBuffer;
  embeddings2?: SharedArrayBuffer;
  embeddingGrads: SharedArrayBuffer;
  embeddingGrads2?: SharedArrayBuffer;
  /** Each replica's flat backbone gradient [workers][P], then their sum [P]. */
  grads: SharedArrayBuffer;
  gradSum: SharedArrayBuffer;
}

/** Typed views of the regions (either side). */
export interface SharedViews {
  control: Int32Array;
  scalars: Float64Array;
  stats: Float64Array;
  images: Float32Array;
  images2?: Float32Array;
  embeddings: Float32Array;
  embeddings2?: Float32Array;
  embeddingGrads: Float32Array;
  embeddingGrads2?: Float32Array;
  grads: Float32Array;
  gradSum: Float32Array;
}

export function allocateRegions(s: BufferSizes): SharedRegions {
  const f32 = (n: number) => new SharedArrayBuffer(4 * n);
  const image = s.batchSize * s.inputSize * s.inputSize * 3;
  const emb = s.batchSize * s.embeddingSize;
  return {
    control: new SharedArrayBuffer(4 * CTL.length),
    scalars: new SharedArrayBuffer(8 * 2),
    stats: new SharedArrayBuffer(8 * 2 * s.workers * s.statLength),
    images: f32(image),
    images2: s.twoViews ? f32(image) : undefined,
    embeddings: f32(emb),
    embeddings2: s.twoViews ? f32(emb) : undefined,
    embeddingGrads: f32(emb),
    embeddingGrads2: s.twoViews ? f32(emb) : undefined,
    grads: f32(s.workers * s.parameters),
    gradSum: f32(s.parameters),
  };
}

export function viewRegions(r: SharedRegions): SharedViews {
  const f32 = (b: SharedArrayBuffer | undefined) => (b ? new Float32Array(b) : undefined);
  return {
    control: new Int32Array(r.control),
    scalars: new Float64Array(r.scalars),
    stats: new Float64Array(r.stats),
    images: new Float32Array(r.images),
    images2: f32(r.images2),
    embeddings: new Float32Array(r.embeddings),
    embeddings2: f32(r.embeddings2),
    embeddingGrads: new Float32Array(r.embeddingGrads),
    embeddingGrads2: f32(r.embeddingGrads2),
    grads: new Float32Array(r.grads),
    gradSum: new Float32Array(r.gradSum),
  };
}

/** Bytes of shared memory a group of this size allocates (outside every wasm heap). */
export function sharedBytes(s: BufferSizes): number {
  const views = s.twoViews ? 2 : 1;
  return 4 * (views * s.batchSize * (s.inputSize * s.inputSize * 3 + 2 * s.embeddingSize) + (s.workers + 1) * s.parameters) + 16 * s.workers * s.statLength;
}
