/**
 * The classes model-parallel shard `rank` of `numShards` owns (arcface_torch partial_fc_v2.py): C//N classes each,
 * plus one more for the first C % N shards; shard r starts at (C//N)·r + min(r, C % N).
 */
export function shardRange(numClasses: number, numShards: number, rank: number): { start: number; count: number } {
  if (!Number.isInteger(numShards) || numShards < 1) throw new Error(`shardRange: numShards=${numShards} must be a positive integer.`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= numShards) throw new Error(`shardRange: rank=${rank} must be in [0, ${numShards}).`);
  const base = Math.floor(numClasses / numShards);
  const extra = numClasses % numShards;
  return { start: base * rank + Math.min(rank, extra), count: base + (rank < extra ? 1 : 0) };
}
