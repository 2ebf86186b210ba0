// How a batch is split over replicas: contiguous rows, sizes differing by at most one (the first B mod N replicas
// take one more), as torch's DistributedSampler gives each rank B/N consecutive samples of the global batch.

export interface Shard {
  /** First row of the batch this replica owns. */
  start: number;
  count: number;
}

export function splitBatch(batchSize: number, workers: number): Shard[] {
  const base = Math.floor(batchSize / workers);
  const extra = batchSize % workers;
  const out: Shard[] = [];
  let start = 0;
  for (let r = 0; r < workers; r++) {
    const count = base + (r < extra ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out;
}
