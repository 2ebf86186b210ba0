// Sub-center cleaning on a synthetic noisy set with known structure, checked against an independent computation
// (angles in degrees via acos), plus the list round trip.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanBySubCenters, readCleanList, writeCleanList } from '../src/index.js';
import { uniform } from './reference.js';

const D = 16;
const C = 4;
const K = 3;

/** Class c: most samples near sub-centre (c % K), a few near another sub-centre, a few random (noise). */
function dataset() {
  const centers = Float32Array.from(uniform(C * K * D, 5));
  const emb: number[] = [];
  const labels: number[] = [];
  const kind: string[] = [];
  let seed = 100;
  for (let c = 0; c < C; c++) {
    const main = c % K;
    const other = (c + 1) % K;
    const add = (k: number | null, n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        const noise = uniform(D, seed++);
        for (let j = 0; j < D; j++) emb.push(k === null ? noise[j]! : centers[(c * K + k) * D + j]! + 0.15 * noise[j]!);
        labels.push(c);
        kind.push(tag);
      }
    };
    add(main, 7, 'dominant');
    add(other, 3, 'other-sub-centre');
    add(null, 2, 'random');
  }
  return { centers, emb: Float32Array.from(emb), labels: Int32Array.from(labels), kind };
}

function angleDeg(a: Float32Array, ai: number, b: Float32Array, bi: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < D; j++) {
    ab += a[ai + j]! * b[bi + j]!;
    aa += a[ai + j]! ** 2;
    bb += b[bi + j]! ** 2;
  }
  return (Math.acos(ab / Math.sqrt(aa * bb)) * 180) / Math.PI;
}

describe('cleanBySubCenters', () => {
  const { centers, emb, labels, kind } = dataset();

  it('finds the dominant sub-centre by majority vote and keeps exactly the samples within 75° of it', () => {
    const r = cleanBySubCenters(emb, labels, centers, { numClasses: C, subCenters: K, embeddingSize: D });
    for (let c = 0; c < C; c++) expect(r.dominant[c]).toBe(c % K);
    let kept = 0;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      const want = angleDeg(emb, i * D, centers, (y * K + (y % K)) * D) < 75 ? 1 : 0;
      expect(r.keep[i], `sample ${i} (${kind[i]})`).toBe(want);
      kept += want;
      if (kind[i] === 'dominant') expect(r.keep[i]).toBe(1);
    }
    expect(r.kept).toBe(kept);
    expect(r.dropped).toBe(labels.length - kept);
    // the samples gathered on the other sub-centre are (mostly) dropped: the procedure does something
    expect(r.dropped).toBeGreaterThanOrEqual(C * 3);
    for (const pc of r.perClass) {
      expect(pc.total).toBe(12);
      let d = 0;
      for (let i = 0; i < labels.length; i++) if (labels[i] === pc.class && !r.keep[i]) d++;
      expect(pc.dropped).toBe(d);
    }
    expect(r.thresholdCos).toBeCloseTo(0.258819, 6);
  });

  it('a tighter threshold drops more; an empty class gets dominant −1', () => {
    const r75 = cleanBySubCenters(emb, labels, centers, { numClasses: C, subCenters: K, embeddingSize: D });
    const r30 = cleanBySubCenters(emb, labels, centers, { numClasses: C, subCenters: K, embeddingSize: D, thresholdDegrees: 30 });
    expect(r30.dropped).toBeGreaterThan(r75.dropped);
    const withEmpty = cleanBySubCenters(emb, labels, new Float32Array((C + 1) * K * D).fill(0.5), { numClasses: C + 1, subCenters: K, embeddingSize: D });
    expect(withEmpty.dominant[C]).toBe(-1);
    expect(withEmpty.perClass[C]).toEqual({ class: C, total: 0, dropped: 0 });
  });

  it('rejects inconsistent sizes and options', () => {
    const o = { numClasses: C, subCenters: K, embeddingSize: D };
    expect(() => cleanBySubCenters(emb.subarray(1), labels, centers, o)).toThrow(/embeddings have .* values but labels say/);
    expect(() => cleanBySubCenters(emb, labels, centers, { ...o, subCenters: 2 })).toThrow(/\[C, K, D\] layout/);
    expect(() => cleanBySubCenters(emb, labels, centers, { ...o, subCenters: 0 })).toThrow(/subCenters=0 must be a positive integer/);
    expect(() => cleanBySubCenters(emb, labels, centers, { ...o, thresholdDegrees: 190 })).toThrow(/thresholdDegrees=190/);
    const bad = labels.slice();
    bad[3] = C;
    expect(() => cleanBySubCenters(emb, bad, centers, o)).toThrow(/labels\[3\]=4 is outside \[0, 4\)/);
  });

  it('writeCleanList writes one kept item per line, in order; readCleanList reads it back', () => {
    const r = cleanBySubCenters(emb, labels, centers, { numClasses: C, subCenters: K, embeddingSize: D });
    const paths = Array.from(labels, (y, i) => `id${y}/img${i}.jpg`);
    const dir = mkdtempSync(join(tmpdir(), 'facet-heads-'));
    const file = join(dir, 'sub', 'clean.lst');
    expect(writeCleanList(file, paths, r.keep)).toBe(r.kept);
    const lines = readCleanList(file);
    expect(lines).toEqual(paths.filter((_, i) => r.keep[i]));
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    writeCleanList(join(dir, 'idx.lst'), Int32Array.from(labels, (_, i) => i), r.keep);
    expect(readCleanList(join(dir, 'idx.lst')).map(Number)).toEqual([...r.keep.keys()].filter((i) => r.keep[i]));
    expect(() => writeCleanList(file, paths.slice(1), r.keep)).toThrow(/items but keep has/);
    expect(() => writeCleanList(file, ['a\nb'], Uint8Array.of(1))).toThrow(/line break/);
  });
});
