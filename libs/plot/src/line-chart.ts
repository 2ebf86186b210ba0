import { checkSize, drawablePoints, droppedNote, title } from './points.js';
import { DEFAULT_CHART_HEIGHT, DEFAULT_CHART_WIDTH, type AxisScale, type VegaLiteSpec } from './types.js';

export interface LineChartOptions {
  title: string;
  /** x-axis title. */
  x: string;
  /** y-axis title. */
  y: string;
  /** One line per series, drawn through its points in the given order. */
  series: Array<{ name: string; points: Array<[number, number]> }>;
  xScale?: AxisScale;
  yScale?: AxisScale;
  width?: number;
  height?: number;
  /** Line under the title (a note on the dropped points is appended to it). */
  subtitle?: string;
  /** Fixed axis ranges (default: fitted to the data). */
  xDomain?: [number, number];
  yDomain?: [number, number];
}

function axisScale(type: AxisScale, domain: [number, number] | undefined): Record<string, unknown> {
  const base = type === 'log' ? { type: 'log' } : { zero: false };
  return domain ? { ...base, domain } : base;
}

/**
 * Lines (one colour per series; a legend when there is more than one). Points a log axis cannot show (x or y ≤ 0)
 * and non-finite points are left out and counted in the subtitle.
 */
export function lineChart(opts: LineChartOptions): VegaLiteSpec {
  const xScale = opts.xScale ?? 'linear';
  const yScale = opts.yScale ?? 'linear';
  checkSize('width', opts.width);
  checkSize('height', opts.height);
  if (opts.series.length === 0) throw new Error(`lineChart "${opts.title}" has no series; pass at least one.`);
  const rows: Array<{ series: string; x: number; y: number; i: number }> = [];
  let dropped = 0;
  for (const s of opts.series) {
    const d = drawablePoints(s.points.map(([x, y], i) => ({ series: s.name, x, y, i })), xScale, yScale);
    rows.push(...d.kept);
    dropped += d.dropped;
  }
  const many = opts.series.length > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: title(opts.title, [opts.subtitle, droppedNote(dropped, xScale, yScale)].filter(Boolean).join('; ') || undefined),
    width: opts.width ?? DEFAULT_CHART_WIDTH,
    height: opts.height ?? DEFAULT_CHART_HEIGHT,
    data: { values: rows },
    mark: { type: 'line', clip: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: opts.x, scale: axisScale(xScale, opts.xDomain) },
      y: { field: 'y', type: 'quantitative', title: opts.y, scale: axisScale(yScale, opts.yDomain) },
      order: { field: 'i', type: 'quantitative' },
      ...(many
        ? { color: { field: 'series', type: 'nominal', title: null, sort: opts.series.map((s) => s.name) } }
        : { detail: { field: 'series', type: 'nominal' } }),
    },
  } as VegaLiteSpec;
}
