import { join } from 'node:path';
import { histogramChart, lineChart, renderChart } from '@facet/plot';
import type { IdentificationResult } from './identification.js';
import type { RocCurve } from './roc.js';
import type { VerificationReport } from './verify.js';

/**
 * The ROC points with FAR > 0 (a log axis cannot show FAR = 0; the TAR reached there is said in the subtitle),
 * at most ~`max` of them for drawing: the last point at or below each of `max` log-spaced FAR targets (the
 * step curve a reader sees), plus the end point. Drawing all of a million-pair curve adds nothing visible.
 */
export function rocPlotPoints(roc: RocCurve, max = 600): Array<[number, number]> {
  const n = roc.far.length;
  let i = 0;
  while (i + 1 < n && roc.far[i + 1]! === 0) i++;
  // The last FAR = 0 point is where the curve leaves the left edge; from there on FAR > 0.
  if (n - i - 1 <= max) return Array.from(roc.far.subarray(i + 1), (f, k) => [f, roc.tar[i + 1 + k]!] as [number, number]);
  const minFar = 1 / Math.max(roc.impostor, 1);
  const pts: Array<[number, number]> = [];
  for (let k = 0; k <= max; k++) {
    const target = minFar * Math.pow(1 / minFar, k / max);
    while (i + 1 < n && roc.far[i + 1]! <= target) i++;
    if (roc.far[i] === 0) continue;
    const last = pts[pts.length - 1];
    if (!last || last[0] !== roc.far[i] || last[1] !== roc.tar[i]) pts.push([roc.far[i]!, roc.tar[i]!]);
  }
  pts.push([roc.far[n - 1]!, roc.tar[n - 1]!]);
  return pts;
}

/** What the log axis leaves out: the TAR already reached at FAR = 0, and the FAR resolution of the set. */
function rocSubtitle(roc: RocCurve): string {
  let i = 0;
  while (i + 1 < roc.far.length && roc.far[i + 1]! === 0) i++;
  return `TAR at FAR = 0: ${(100 * roc.tar[i]!).toFixed(2)}%; ${roc.genuine} genuine / ${roc.impostor} impostor pairs (FAR step ${(1 / roc.impostor).toExponential(1)})`;
}

function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (!s || s === '.' || s === '..') throw new Error(`plot name "${name}" gives no usable file name; use letters, digits, '.', '_' or '-'.`);
  return s;
}

/**
 * Verification plots: `<name>-roc` (TAR vs FAR, log FAR axis) and `<name>-scores` (genuine vs impostor cosine
 * histograms), each as SVG and PNG in `outDir`. Returns the written paths.
 */
export async function plotVerification(report: VerificationReport, outDir: string, name: string): Promise<string[]> {
  const base = join(outDir, safeName(name));
  const acc = report.accuracy;
  const roc = await renderChart(
    lineChart({
      title: `${name}: ROC (AUC ${report.auc.toFixed(4)}, EER ${(100 * report.eer).toFixed(2)}%)`,
      subtitle: rocSubtitle(report.roc),
      x: 'false accept rate (log)',
      y: 'true accept rate',
      xScale: 'log',
      yDomain: [0, 1],
      series: [{ name, points: rocPlotPoints(report.roc) }],
    }),
    `${base}-roc`,
  );
  const genuine = report.scores.filter((_, i) => report.issame[i]);
  const impostor = report.scores.filter((_, i) => !report.issame[i]);
  const scores = await renderChart(
    histogramChart({
      title: `${name}: scores (accuracy ${(100 * acc.accuracy).toFixed(2)} ± ${(100 * acc.std).toFixed(2)}%, best cos ${report.bestThresholdCosine.toFixed(3)})`,
      x: 'cosine similarity',
      groups: [
        { name: `genuine (${genuine.length})`, values: genuine },
        { name: `impostor (${impostor.length})`, values: impostor },
      ],
      bins: 50,
    }),
    `${base}-scores`,
  );
  return [roc.svg, roc.png, scores.svg, scores.png];
}

/** Several ROC curves on one log-FAR chart (sets or models side by side): `<fileName>.svg/.png`. */
export async function plotRocComparison(
  curves: Array<{ name: string; roc: RocCurve }>,
  outDir: string,
  fileName: string,
  title = 'ROC',
): Promise<string[]> {
  const files = await renderChart(
    lineChart({
      title,
      x: 'false accept rate (log)',
      y: 'true accept rate',
      xScale: 'log',
      yDomain: [0, 1],
      series: curves.map((c) => ({ name: c.name, points: rocPlotPoints(c.roc) })),
    }),
    join(outDir, safeName(fileName)),
  );
  return [files.svg, files.png];
}

/** CMC curve (identification rate vs rank): `<name>-cmc.svg/.png`. */
export async function plotCmc(result: IdentificationResult, outDir: string, name: string): Promise<string[]> {
  const files = await renderChart(
    lineChart({
      title: `${name}: CMC (rank-1 ${(100 * result.rank1).toFixed(2)}%, rank-5 ${(100 * result.rank5).toFixed(2)}%)`,
      subtitle: `${result.probes} probes, ${result.galleryClasses} gallery identities (${result.galleryItems} images)`,
      x: 'rank',
      y: 'identification rate',
      yDomain: [0, 1],
      series: [{ name, points: Array.from(result.ranks, (r, i) => [r, result.cmc[i]!] as [number, number]) }],
    }),
    join(outDir, `${safeName(name)}-cmc`),
  );
  return [files.svg, files.png];
}
