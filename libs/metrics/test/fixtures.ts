import type { EmbeddingMatrix } from '../src/index.js';
import { randomArray } from './reference.js';

/**
 * A labelled two-view set: K class directions, images scattered around them (`spread`), each view its image
 * plus view noise (`viewNoise`). Labels are shuffled ids (not 0..K-1) to exercise the label mapping.
 */
export function clusteredViews(opts: { n: number; dim: number; classes: number; spread: number; viewNoise: number; seed: number; directionSeed?: number }) {
  const { n, dim, classes, spread, viewNoise, seed } = opts;
  const dirs = randomArray(classes * dim, opts.directionSeed ?? seed);
  const noise = randomArray(n * dim * 3, seed + 1);
  const labels: number[] = [];
  const v1 = new Float32Array(n * dim);
  const v2 = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const k = (i * 7 + 3) % classes;
    labels.push(10 + 3 * k);
    for (let j = 0; j < dim; j++) {
      const base = dirs[k * dim + j]! + spread * noise[i * dim + j]!;
      v1[i * dim + j] = base + viewNoise * noise[(n + i) * dim + j]!;
      v2[i * dim + j] = base + viewNoise * noise[(2 * n + i) * dim + j]!;
    }
  }
  const m1: EmbeddingMatrix = { data: v1, dim };
  const m2: EmbeddingMatrix = { data: v2, dim };
  return { v1: m1, v2: m2, labels };
}
