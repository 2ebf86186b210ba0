// Sub-center ArcFace data cleaning (Deng et al., ECCV 2020 §3.2; insightface recognition/subcenter_arcface/drop.py):
// after training with K sub-centres per class, each class's dominant sub-centre is the one most of its samples are
// closest to (a majority vote of argmax_k cos(x, W[c,k])). A sample is kept iff its cosine to the dominant
// sub-centre of its own class exceeds cos(75°) ≈ 0.2588; everything else (samples gathered on non-dominant
// sub-centres, and far-away "high-confident noise") is dropped. Host-side, float64.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SubCenterCleanOptions {
  numClasses: number;
  subCenters: number;
  embeddingSize: number;
  /** Drop samples further than this angle (degrees) from their class's dominant sub-centre. Default 75 (paper). */
  thresholdDegrees?: number;
}

export interface SubCenterCleanClassReport {
  class: number;
  /** Samples of this class. */
  total: number;
  /** Samples of this class that were dropped. */
  dropped: number;
}

export interface SubCenterCleanResult {
  /** 1 = keep sample i, 0 = drop. */
  keep: Uint8Array;
  /** Dominant sub-centre index per class; −1 for a class without samples. */
  dominant: Int32Array;
  perClass: SubCenterCleanClassReport[];
  /** cos(thresholdDegrees): the cosine a kept sample must exceed. */
  thresholdCos: number;
  kept: number;
  dropped: number;
  /** Classes that had samples but lost all of them (drop.py removes these and renumbers the rest). */
  classesEmptied: number;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`cleanBySubCenters: ${name}=${String(v)} must be a positive integer.`);
  }
  return v;
}

export function cleanBySubCenters(
  embeddings: Float32Array,
  labels: Int32Array,
  centers: Float32Array,
  opts: SubCenterCleanOptions,
): SubCenterCleanResult {
  const C = positiveInt('numClasses', opts?.numClasses);
  const K = positiveInt('subCenters', opts?.subCenters);
  const D = positiveInt('embeddingSize', opts?.embeddingSize);
  const deg = opts.thresholdDegrees ?? 75;
  if (typeof deg !== 'number' || !(deg > 0 && deg < 180)) {
    throw new Error(`cleanBySubCenters: thresholdDegrees=${String(deg)} must be in (0, 180) degrees (paper: 75).`);
  }
  const N = labels.length;
  if (embeddings.length !== N * D) {
    throw new Error(
      `cleanBySubCenters: embeddings have ${embeddings.length} values but labels say ${N} samples × embeddingSize ${D} = ${N * D}.`,
    );
  }
  if (centers.length !== C * K * D) {
    throw new Error(
      `cleanBySubCenters: centers have ${centers.length} values; expected numClasses ${C} × subCenters ${K} × embeddingSize ${D} = ${C * K * D} ([C, K, D] layout).`,
    );
  }
  for (let i = 0; i < N; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= C) throw new Error(`cleanBySubCenters: labels[${i}]=${y} is outside [0, ${C}).`);
  }
  const centerNorm = new Float64Array(C * K);
  for (let r = 0; r < C * K; r++) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += centers[r * D + j]! ** 2;
    if (!Number.isFinite(ss)) throw new Error(`cleanBySubCenters: centers row ${r} (class ${Math.floor(r / K)}) is not finite.`);
    centerNorm[r] = Math.max(Math.sqrt(ss), 1e-12);
  }
  // cosine of every sample to each sub-centre of its own class, and the per-class vote
  const cosK = new Float64Array(N * K);
  const votes = new Int32Array(C * K);
  const total = new Int32Array(C);
  for (let i = 0; i < N; i++) {
    const y = labels[i]!;
    const x = i * D;
    let xx = 0;
    for (let j = 0; j < D; j++) xx += embeddings[x + j]! ** 2;
    if (!Number.isFinite(xx)) throw new Error(`cleanBySubCenters: embedding ${i} is not finite.`);
    const xNorm = Math.max(Math.sqrt(xx), 1e-12);
    let best = 0;
    for (let k = 0; k < K; k++) {
      const w = (y * K + k) * D;
      let dot = 0;
      for (let j = 0; j < D; j++) dot += embeddings[x + j]! * centers[w + j]!;
      const c = dot / (xNorm * centerNorm[y * K + k]!);
      cosK[i * K + k] = c;
      if (c > cosK[i * K + best]!) best = k;
    }
    votes[y * K + best]!++;
    total[y]!++;
  }
  const dominant = new Int32Array(C).fill(-1);
  for (let c = 0; c < C; c++) {
    if (total[c] === 0) continue;
    let best = 0;
    for (let k = 1; k < K; k++) if (votes[c * K + k]! > votes[c * K + best]!) best = k;
    dominant[c] = best;
  }
  const thresholdCos = Math.cos((deg * Math.PI) / 180);
  const keep = new Uint8Array(N);
  const droppedPer = new Int32Array(C);
  let kept = 0;
  for (let i = 0; i < N; i++) {
    const y = labels[i]!;
    if (cosK[i * K + dominant[y]!]! > thresholdCos) {
      keep[i] = 1;
      kept++;
    } else droppedPer[y]!++;
  }
  const perClass: SubCenterCleanClassReport[] = [];
  let classesEmptied = 0;
  for (let c = 0; c < C; c++) {
    perClass.push({ class: c, total: total[c]!, dropped: droppedPer[c]! });
    if (total[c]! > 0 && droppedPer[c] === total[c]) classesEmptied++;
  }
  return { keep, dominant, perClass, thresholdCos, kept, dropped: N - kept, classesEmptied };
}

/**
 * Write the kept items (dataset paths, or sample indices) as a text list, one per line, in their original order.
 * Written to a temporary file and renamed, so a crash never leaves half a list. Returns the number of lines.
 */
export function writeCleanList(path: string, items: readonly string[] | ArrayLike<number>, keep: Uint8Array): number {
  if (items.length !== keep.length) {
    throw new Error(`writeCleanList: ${items.length} items but keep has ${keep.length} flags; pass the list the embeddings were computed from.`);
  }
  const lines: string[] = [];
  for (let i = 0; i < keep.length; i++) {
    if (!keep[i]) continue;
    const s = String(items[i]);
    if (/[\r\n]/.test(s)) throw new Error(`writeCleanList: item ${i} contains a line break and cannot be written to a list file.`);
    lines.push(s);
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, lines.length ? `${lines.join('\n')}\n` : '');
  renameSync(tmp, path);
  return lines.length;
}

/** Read a list written by writeCleanList (one item per line; blank lines ignored). */
export function readCleanList(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`readCleanList: cannot read ${path}: ${(e as Error).message}`);
  }
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}
