import type { MeasureReport } from './measure-embeddings.js';

/** A Vega-Lite spec as plain JSON (rendered by @facet/plot's renderChart, or saved as .vl.json). */
export type MeasurementChartSpec = Record<string, unknown>;

export interface MeasurementCharts {
  /** σ(δ) (min over classes and mass-weighted mean) and R_ε(ε) against the radius. */
  concentration: MeasurementChartSpec;
  /** Histogram of the pairwise centre cosines. */
  centerCosine: MeasurementChartSpec;
  /** Histogram of per-class alignment. */
  classAlignment: MeasurementChartSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Charts for one or more named reports (several runs are overlaid, coloured by run). */
export function measurementCharts(runs: { name: string; report: MeasureReport }[]): MeasurementCharts {
  const curve = runs.flatMap(({ name, report }) => [
    ...report.concentration.deltas.map((x, i) => ({ run: name, series: 'σ(δ), worst class', x, y: report.concentration.sigma[i] })),
    ...report.concentration.deltas.map((x, i) => ({ run: name, series: 'σ(δ), all samples', x, y: report.concentration.meanSigma[i] })),
    ...report.rEpsilon.epsilons.map((x, i) => ({ run: name, series: 'R_ε(ε), not ε-aligned', x, y: report.rEpsilon.values[i] })),
  ]);
  const color = runs.length > 1 ? { field: 'run', type: 'nominal' } : undefined;
  return {
    concentration: {
      $schema: SCHEMA,
      title: 'Concentration σ(δ) and alignment R_ε',
      width: 420,
      height: 280,
      data: { values: curve },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'δ (main-part diameter) / ε (embedding distance)' },
        y: { field: 'y', type: 'quantitative', title: 'fraction', scale: { domain: [0, 1] } },
        color: { field: 'series', type: 'nominal', legend: { labelLimit: 260 } },
        ...(runs.length > 1 ? { strokeDash: { field: 'run', type: 'nominal' } } : {}),
      },
    },
    centerCosine: {
      $schema: SCHEMA,
      title: 'Pairwise class-centre cosine',
      width: 420,
      height: 240,
      data: {
        values: runs.flatMap(({ name, report }) =>
          report.divergence.cosineHistogram.counts.map((count, i) => ({
            run: name,
            from: report.divergence.cosineHistogram.edges[i],
            to: report.divergence.cosineHistogram.edges[i + 1],
            count,
          })),
        ),
      },
      mark: { type: 'bar', opacity: runs.length > 1 ? 0.55 : 1 },
      encoding: {
        x: { field: 'from', type: 'quantitative', title: 'cos(µk, µl)', scale: { domain: [-1, 1] } },
        x2: { field: 'to' },
        y: { field: 'count', type: 'quantitative', title: 'class pairs', stack: null },
        ...(color ? { color } : {}),
      },
    },
    classAlignment: {
      $schema: SCHEMA,
      title: 'Per-class alignment E||f1-f2||²',
      width: 420,
      height: 240,
      data: { values: runs.flatMap(({ name, report }) => report.classAlignment.map((c) => ({ run: name, alignment: c.alignment }))) },
      mark: { type: 'bar', opacity: runs.length > 1 ? 0.55 : 1 },
      encoding: {
        x: { field: 'alignment', type: 'quantitative', bin: { maxbins: 30 }, title: 'class alignment' },
        y: { aggregate: 'count', type: 'quantitative', title: 'classes', stack: null },
        ...(color ? { color } : {}),
      },
    },
  };
}
