// Partial FC class sampling (An et al., ICCVW 2021; arcface_torch partial_fc_v2.py `sample`): every class present
// in the batch (a positive) plus uniformly random other classes, int(sampleRate·C) classes in total, positives
// included; if the positives alone exceed that budget only the positives are used. The indices are sorted and each
// label is remapped to its position among them (insightface: searchsorted).
//
// insightface draws rand(C), forces positives to 2 and takes top-k: a uniformly random subset of the negatives.
// Selection sampling (Knuth, TAOCP vol. 2, Algorithm S) gives the same distribution in one ordered pass, so the
// result is already sorted and costs O(C) time with no float keys to sort.
import { Xoshiro128 } from './rng.js';

export interface SampledClasses {
  /** Sampled class indices, ascending; every positive is among them. */
  indices: Int32Array;
  /** labels[i] remapped to its position in `indices`. */
  remapped: Int32Array;
  /** How many of the indices are positives (distinct batch labels). */
  numPositives: number;
}

/** The number of classes a step samples: int(sampleRate · C) as in Python (positives count toward it). */
export function sampleBudget(numClasses: number, sampleRate: number): number {
  return Math.floor(sampleRate * numClasses);
}

export function validateSampling(labels: Int32Array, numClasses: number, sampleRate: number, where: string): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`${where}: numClasses=${String(numClasses)} must be a positive integer.`);
  if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1)) {
    throw new Error(`${where}: sampleRate=${String(sampleRate)} must be in (0, 1] (1 = full FC; insightface uses 0.1–0.3).`);
  }
  if (!(labels instanceof Int32Array)) throw new Error(`${where}: labels must be an Int32Array of class indices.`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= numClasses) throw new Error(`${where}: labels[${i}]=${y} is outside [0, ${numClasses}).`);
  }
}

/** Sampling with an explicit generator (Partial FC keeps one across steps for checkpointable streams). */
export function sampleClassesWith(labels: Int32Array, numClasses: number, sampleRate: number, rng: Xoshiro128): SampledClasses {
  const isPositive = new Uint8Array(numClasses);
  let numPositives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!isPositive[y]) {
      isPositive[y] = 1;
      numPositives++;
    }
  }
  const budget = sampleBudget(numClasses, sampleRate);
  let indices: Int32Array;
  if (budget <= numPositives) {
    indices = new Int32Array(numPositives);
    for (let c = 0, k = 0; c < numClasses; c++) if (isPositive[c]) indices[k++] = c;
  } else {
    indices = new Int32Array(budget);
    let need = budget - numPositives;
    let left = numClasses - numPositives;
    let k = 0;
    for (let c = 0; c < numClasses; c++) {
      if (isPositive[c]) indices[k++] = c;
      else {
        // take this negative with probability need/left: every need-subset of the negatives is equally likely
        if (need > 0 && rng.nextFloat() * left < need) {
          indices[k++] = c;
          need--;
        }
        left--;
      }
    }
  }
  const remapped = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) remapped[i] = searchSorted(indices, labels[i]!);
  return { indices, remapped, numPositives };
}

/**
 * Sample the classes of one Partial FC step: all positives of `labels` plus uniform random negatives, up to
 * int(sampleRate · numClasses) in total; returns the sorted indices and the labels remapped to positions in them.
 */
export function sampleClasses(
  labels: Int32Array,
  numClasses: number,
  sampleRate: number,
  seed?: number,
): { indices: Int32Array; remapped: Int32Array } {
  validateSampling(labels, numClasses, sampleRate, 'sampleClasses');
  if (seed !== undefined && !Number.isFinite(seed)) throw new Error(`sampleClasses: seed=${seed} must be a finite number.`);
  const rng = new Xoshiro128(seed ?? Math.floor(Math.random() * 2 ** 32));
  const { indices, remapped } = sampleClassesWith(labels, numClasses, sampleRate, rng);
  return { indices, remapped };
}

/** Position of `value` in the ascending array (which must contain it). */
function searchSorted(a: Int32Array, value: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
