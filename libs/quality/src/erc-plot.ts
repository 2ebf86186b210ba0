// One chart per target FMR: FNMR against the discarded fraction for every quality measure and random discard;
// the legend carries each curve's area (lower is better).
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { lineChart, renderChart, type VegaLiteSpec } from '@facet/plot';
import type { ErrorVersusReject } from './error-versus-reject.js';

/** Vega-Lite specs keyed by target FMR. */
export function errorVersusRejectCharts(result: ErrorVersusReject, title = 'Error versus reject'): Array<{ fmr: number; spec: VegaLiteSpec }> {
  return result.fmrs.map((fmr) => {
    const curves = result.curves.filter((c) => c.targetFmr === fmr);
    const spec = lineChart({
        title: `${title}: FNMR at FMR ${fmr}`,
        subtitle: `${result.pairs} pairs (${result.genuine} genuine), quality = min of the pair, threshold ${result.thresholdMode === 'fixed' ? 'fixed on all pairs' : 'recomputed per fraction'}`,
        x: 'fraction of pairs discarded (lowest quality first)',
        y: 'FNMR',
        xDomain: [0, 1],
        series: curves.map((c) => ({
          name: `${c.measure} (AUC ${c.auc === null ? 'n/a' : c.auc.toFixed(4)})`,
          points: c.points.filter((p) => p.fnmr !== null).map((p) => [p.reject, p.fnmr!] as [number, number]),
        })),
      });
    // Vega truncates legend labels at 160 px by default; the AUCs must stay readable
    const color = (spec as { encoding?: { color?: Record<string, unknown> } }).encoding?.color;
    if (color) color.legend = { labelLimit: 400 };
    return { fmr, spec };
  });
}

/** Render the charts to <outDir>/<name>-fmr<fmr>.{svg,png}; returns the written paths. */
export async function plotErrorVersusReject(result: ErrorVersusReject, outDir: string, name = 'erc', title?: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const { fmr, spec } of errorVersusRejectCharts(result, title)) {
    const f = await renderChart(spec, join(outDir, `${name}-fmr${fmr.toExponential(0).replace('+', '')}`));
    files.push(f.svg, f.png);
  }
  return files;
}
