import { checkSize, title } from './points.js';
import { DEFAULT_CHART_HEIGHT, DEFAULT_CHART_WIDTH, type VegaLiteSpec } from './types.js';

export interface HistogramChartOptions {
  title: string;
  /** x-axis title (what the values are). */
  x: string;
  /** Overlaid distributions, binned on shared edges. */
  groups: Array<{ name: string; values: ArrayLike<number> }>;
  /** Number of equal-width bins over the range of all finite values (default 40). */
  bins?: number;
  /** y = fraction of each group's values per bin (default), so groups of different sizes compare; false = counts. */
  normalize?: boolean;
  width?: number;
  height?: number;
}

/**
 * Overlaid histograms (e.g. genuine vs impostor scores). Values are binned here rather than in Vega so that a
 * million scores become `bins` rows per group in the spec instead of a million.
 */
export function histogramChart(opts: HistogramChartOptions): VegaLiteSpec {
  const bins = opts.bins ?? 40;
  if (!(Number.isInteger(bins) && bins >= 1 && bins <= 1000)) {
    throw new Error(`histogramChart bins=${opts.bins} is invalid; use an integer in [1, 1000].`);
  }
  checkSize('width', opts.width);
  checkSize('height', opts.height);
  if (opts.groups.length === 0) throw new Error(`histogramChart "${opts.title}" has no groups; pass at least one.`);
  const normalize = opts.normalize ?? true;
  let lo = Infinity;
  let hi = -Infinity;
  let nonFinite = 0;
  for (const g of opts.groups) {
    for (let i = 0; i < g.values.length; i++) {
      const v = g.values[i]!;
      if (!Number.isFinite(v)) nonFinite++;
      else {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (lo === Infinity) {
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const rows: Array<{ group: string; start: number; end: number; value: number }> = [];
  for (const g of opts.groups) {
    const counts = new Float64Array(bins);
    let n = 0;
    for (let i = 0; i < g.values.length; i++) {
      const v = g.values[i]!;
      if (!Number.isFinite(v)) continue;
      // The last edge is inclusive so that the maximum lands in the last bin.
      counts[Math.min(bins - 1, Math.floor((v - lo) / width))]! += 1;
      n++;
    }
    for (let b = 0; b < bins; b++) {
      rows.push({ group: g.name, start: lo + b * width, end: lo + (b + 1) * width, value: normalize && n > 0 ? counts[b]! / n : counts[b]! });
    }
  }
  const note = nonFinite ? `${nonFinite} non-finite value${nonFinite === 1 ? '' : 's'} not counted` : undefined;
  const many = opts.groups.length > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: title(opts.title, note),
    width: opts.width ?? DEFAULT_CHART_WIDTH,
    height: opts.height ?? DEFAULT_CHART_HEIGHT,
    data: { values: rows },
    mark: { type: 'rect', opacity: many ? 0.55 : 0.85 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: opts.x, scale: { zero: false, domain: [lo, hi] } },
      x2: { field: 'end' },
      y: { field: 'value', type: 'quantitative', title: normalize ? 'fraction of group' : 'count', stack: null },
      y2: { datum: 0 },
      ...(many ? { color: { field: 'group', type: 'nominal', title: null, sort: opts.groups.map((g) => g.name) } } : {}),
    },
  } as VegaLiteSpec;
}
