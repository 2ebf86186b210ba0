import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '@facet/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherRows, identification, insightfaceL2Thresholds, summarizeVerification, plotCmc, plotRocComparison, plotVerification, rocPlotPoints, rocCurve, verify } from '../src/index.js';
import { gauss, referenceFolds, referenceFoldsOn, rng } from './reference.js';

const keep = process.env.FACET_KEEP_PLOTS;
const dir = keep ?? mkdtempSync(join(tmpdir(), 'facet-eval-'));
afterAll(() => {
  if (!keep) rmSync(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  await initEngine({ backend: 'wasm' });
});

/** 2P rows in insightface .bin order (pair k = rows 2k, 2k+1) from noisy identity centres; un-normalised. */
function binLikeEmbeddings(pairs: number, dim: number, seed: number) {
  const r = rng(seed);
  const issame = Array.from({ length: pairs }, (_, k) => k % 2 === 0 || r() < 0.1);
  const emb = new Float32Array(2 * pairs * dim);
  for (let k = 0; k < pairs; k++) {
    const c1 = Array.from({ length: dim }, () => gauss(r));
    const c2 = issame[k] ? c1 : Array.from({ length: dim }, () => gauss(r));
    for (let d = 0; d < dim; d++) {
      emb[2 * k * dim + d] = (c1[d]! + 0.9 * gauss(r)) * 3;
      emb[(2 * k + 1) * dim + d] = (c2[d]! + 0.9 * gauss(r)) * 0.5;
    }
  }
  return { emb, issame };
}

describe('verify', () => {
  it('with a fold column, verify and its summary use and name the file folds', () => {
    const dim = 8;
    const pairs = 120;
    const { emb, issame } = binLikeEmbeddings(pairs, dim, 4);
    const even = Int32Array.from({ length: pairs }, (_, k) => 2 * k);
    const a = gatherRows(emb, dim, even);
    const b = gatherRows(emb, dim, even.map((v) => v + 1));
    const foldIds = Array.from({ length: pairs }, (_, k) => (k * 7) % 5);
    const report = verify(a, b, issame, { dim, foldIds });
    const dist = Array.from(report.scores, (c) => 2 - 2 * c);
    const tests = [0, 1, 2, 3, 4].map((id) => foldIds.flatMap((f, k) => (f === id ? [k] : [])));
    const ref = referenceFoldsOn(dist, issame, insightfaceL2Thresholds(), tests, 'l2');
    // thresholds on the squared L2 the report scored with (2 − 2cos agrees to ~1e-16; no pair sits on a grid point)
    expect(report.accuracy.folds.map((f) => f.threshold)).toEqual(ref.map((f) => f.threshold));
    expect(report.accuracy.folds.map((f) => f.testAccuracy)).toEqual(ref.map((f) => f.testAccuracy));
    const summary = summarizeVerification('folded', report);
    expect([summary.foldSource, summary.foldCount, summary.folds.map((f) => f.foldId)]).toEqual(['file', 5, [0, 1, 2, 3, 4]]);
    const plain = summarizeVerification('plain', verify(a, b, issame, { dim }));
    expect([plain.foldSource, plain.foldCount]).toEqual(['contiguous', 10]);
  });

  it("reproduces insightface's evaluate() on .bin-ordered embeddings (normalise, squared L2, 10 folds)", () => {
    const dim = 12;
    const pairs = 503;
    const { emb, issame } = binLikeEmbeddings(pairs, dim, 9);
    const even = Int32Array.from({ length: pairs }, (_, k) => 2 * k);
    const odd = even.map((v) => v + 1);
    const report = verify(gatherRows(emb, dim, even), gatherRows(emb, dim, odd), issame, { dim });
    // Reference: float64 normalise (sklearn), dist = Σ(e1 − e2)², loop folds over arange(0, 4, 0.01).
    const unit = (row: number) => {
      const v = Array.from(emb.subarray(row * dim, (row + 1) * dim), Number);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const dist = Array.from({ length: pairs }, (_, k) => {
      const a = unit(2 * k);
      const b = unit(2 * k + 1);
      return a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);
    });
    dist.forEach((d, k) => expect(2 - 2 * report.scores[k]!).toBeCloseTo(d, 12));
    const ref = referenceFolds(dist, issame, insightfaceL2Thresholds(), 10, 'l2');
    expect(report.accuracy.folds.map((f) => f.threshold)).toEqual(ref.map((f) => f.threshold));
    expect(report.accuracy.folds.map((f) => f.testAccuracy)).toEqual(ref.map((f) => f.testAccuracy));
    expect(report.accuracy.folds[0]!.testRange).toEqual([0, 51]);
    expect(report.accuracy.folds[3]!.testRange).toEqual([153, 203]);
    expect(report.pairs).toBe(pairs);
    expect(report.genuine + report.impostor).toBe(pairs);
    // Cosine metric on the same pairs gives the same decisions except for rounding right at a threshold.
    const cos = verify(gatherRows(emb, dim, even), gatherRows(emb, dim, odd), issame, { dim, metric: 'cosine' });
    expect(Math.abs(cos.accuracy.accuracy - report.accuracy.accuracy)).toBeLessThan(2 / pairs);
    // The summary numbers agree with each other: a useful verifier, AUC above accuracy-level chance, EER below 50%.
    expect(report.accuracy.accuracy).toBeGreaterThan(0.75);
    expect(report.auc).toBeGreaterThan(0.8);
    expect(report.eer).toBeLessThan(0.3);
    expect(report.tarAtFar.map((t) => t.far)).toEqual([1e-1, 1e-2, 1e-3, 1e-4]);
    expect(report.tarAtFar[3]).toMatchObject({ tar: null });
    expect(report.tarAtFar[0]!.tar).toBeGreaterThan(0.3);
    expect(report.bestThresholdCosine).toBeCloseTo(1 - report.accuracy.bestThreshold / 2, 12);
  });

  it('rejects mismatched inputs', () => {
    expect(() => verify(new Float32Array(8), new Float32Array(4), [true], { dim: 4 })).toThrow(/embeddingsA has 2 rows but embeddingsB has 1/);
    expect(() => verify(new Float32Array(7), new Float32Array(7), [true], { dim: 4 })).toThrow(/not a whole number of 4-d/);
    expect(() => verify(new Float32Array(80), new Float32Array(80), [true], { dim: 4 })).toThrow(/20 embedding pairs but 1 issame/);
  });
});

describe('plots', () => {
  it('writes ROC, score histogram, CMC and comparison charts as SVG + PNG', async () => {
    const dim = 8;
    const { emb, issame } = binLikeEmbeddings(200, dim, 4);
    const even = Int32Array.from({ length: 200 }, (_, k) => 2 * k);
    const report = verify(gatherRows(emb, dim, even), gatherRows(emb, dim, even.map((v) => v + 1)), issame, { dim });
    const files = await plotVerification(report, dir, 'synthetic set');
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['synthetic_set-roc.svg', 'synthetic_set-roc.png', 'synthetic_set-scores.svg', 'synthetic_set-scores.png']);
    expect(readFileSync(files[0]!, 'utf8')).toContain('synthetic set: ROC (AUC');
    expect(readFileSync(files[2]!, 'utf8')).toContain('genuine (');
    for (const png of [files[1]!, files[3]!]) expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    const labels = Int32Array.from({ length: 400 }, (_, i) => Math.floor(i / 2));
    const id = identification({ embeddings: gatherRows(emb, dim, even), labels: labels.filter((_, i) => i % 2 === 0) }, { embeddings: gatherRows(emb, dim, even.map((v) => v + 1)), labels: labels.filter((_, i) => i % 2 === 1) });
    const cmc = await plotCmc(id, dir, 'synthetic');
    expect(readFileSync(cmc[0]!, 'utf8')).toContain('CMC (rank-1');
    const cmp = await plotRocComparison([{ name: 'a', roc: report.roc }, { name: 'b', roc: rocCurve(report.scores.map((s) => s * s), report.issame) }], dir, 'compare');
    expect(readFileSync(cmp[0]!, 'utf8')).toContain('>b<');
  });

  it('thins a long ROC for drawing but keeps its ends and the step shape', () => {
    const r = rng(8);
    const n = 20000;
    const s = Float64Array.from({ length: n }, () => gauss(r));
    const lab = Array.from(s, (v) => r() < 1 / (1 + Math.exp(-2 * v)));
    const roc = rocCurve(s, lab);
    const pts = rocPlotPoints(roc, 300);
    expect(pts.length).toBeLessThan(400);
    expect(pts[pts.length - 1]).toEqual([1, 1]);
    // Every drawn point is a point of the curve.
    const set = new Set(Array.from(roc.far, (f, i) => `${f},${roc.tar[i]}`));
    for (const [f, t] of pts) expect(set.has(`${f},${t}`)).toBe(true);
  });
});
