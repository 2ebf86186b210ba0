// Memory budget of one Partial FC step. The wasm heap is capped at 4 GiB and running out of it corrupts memory
// silently instead of throwing, so Partial FC (and its callers) must refuse a step that cannot fit before running it.

/** The wasm backend's heap limit. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** Default size of the centre rows of one engine block (see PartialFCOptions.blockBytes). */
export const DEFAULT_BLOCK_BYTES = 32 * 1024 ** 2;

/**
 * Peak engine bytes of one step over `sampledClasses` classes processed in blocks of at most `blockClasses`
 * classes (default: one block), float32, R = classes·K centre rows:
 * - kept by every block from forward to backward: cos [B, R], ‖W‖ [R], sub-centre argmax [B, n]; plus x̂, ‖x‖
 *   (the label mask [B, n_b] is rebuilt per block)
 * - on top, the temporaries of one block (n_b classes, R_b rows):
 *   forward: max(W_b + W_bᵀ (the wasm matmul transposes explicitly) + x̂·W_bᵀ [B, R_b], ~5 [B, n_b] for the logits);
 *   backward: max(~6 [B, n_b] forming dcos, 3 [B, R_b] + 2 [B, n_b] routing to sub-centres,
 *   dcos/‖W‖ and its transpose 2 [B, R_b] + dW_b [R_b, D], W_b + [B, R_b] + dx̂)
 * plus 10 % for what the accounting misses. tfjs counts every tensor view (reshape, expandDims) as new bytes in
 * tf.memory().numBytes, so this bounds that figure, itself an upper bound of the real heap use. Checked against
 * tf.profile's peak in the tests.
 */
export function estimateStepEngineBytes(
  batch: number,
  sampledClasses: number,
  subCenters: number,
  dim: number,
  blockClasses = sampledClasses,
): number {
  const B = batch;
  const K = subCenters;
  const n = sampledClasses;
  const R = n * K;
  const nb = Math.min(n, Math.max(1, blockClasses));
  const Rb = nb * K;
  const kept = R + B * R + (K > 1 ? B * n : 0) + 2 * B * dim + B;
  const forward = Math.max(2 * Rb * dim + B * Rb, 5 * B * nb);
  const backward = Math.max(
    6 * B * nb,
    K > 1 ? 3 * B * Rb + 2 * B * nb : 0,
    2 * B * Rb + Rb * dim + 2 * B * dim,
    B * Rb + Rb * dim + 3 * B * dim,
  );
  return Math.ceil(1.1 * 4 * (kept + Math.max(forward, backward)));
}

/** Upper bound on the classes one step samples: int(r·C), or the distinct batch labels (≤ B) when those exceed it. */
export function maxSampledClasses(numClasses: number, sampleRate: number, batch: number): number {
  return Math.min(numClasses, Math.max(Math.floor(sampleRate * numClasses), Math.min(batch, numClasses)));
}

export function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
