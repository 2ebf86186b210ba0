import { checkSize, drawablePoints, droppedNote, title } from './points.js';
import { DEFAULT_CHART_HEIGHT, DEFAULT_CHART_WIDTH, type AxisScale, type VegaLiteSpec } from './types.js';

export interface ScatterPoint {
  x: number;
  y: number;
  /** Text drawn next to the point. */
  label?: string;
  /** Colour group (legend entry). */
  group?: string;
}

export interface ScatterChartOptions {
  title: string;
  x: string;
  y: string;
  points: ScatterPoint[];
  xScale?: AxisScale;
  yScale?: AxisScale;
  width?: number;
  height?: number;
}

/** Points with optional labels and colour groups (e.g. models placed by speed vs accuracy, 2-D embeddings). */
export function scatterChart(opts: ScatterChartOptions): VegaLiteSpec {
  const xScale = opts.xScale ?? 'linear';
  const yScale = opts.yScale ?? 'linear';
  checkSize('width', opts.width);
  checkSize('height', opts.height);
  const { kept, dropped } = drawablePoints(opts.points, xScale, yScale);
  const rows = kept.map((p) => ({ x: p.x, y: p.y, label: p.label ?? '', group: p.group ?? '' }));
  const groups = [...new Set(rows.map((r) => r.group))];
  const colour = groups.length > 1 ? { color: { field: 'group', type: 'nominal', title: null, sort: groups } } : {};
  const x = { field: 'x', type: 'quantitative', title: opts.x, scale: xScale === 'log' ? { type: 'log', padding: 12 } : { zero: false, padding: 12 } };
  const y = { field: 'y', type: 'quantitative', title: opts.y, scale: yScale === 'log' ? { type: 'log', padding: 12 } : { zero: false, padding: 12 } };
  const layers: unknown[] = [{ mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y, ...colour } }];
  if (rows.some((r) => r.label)) {
    layers.push({ mark: { type: 'text', align: 'left', dx: 6, dy: -4, fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: title(opts.title, droppedNote(dropped, xScale, yScale)),
    width: opts.width ?? DEFAULT_CHART_WIDTH,
    height: opts.height ?? DEFAULT_CHART_HEIGHT,
    data: { values: rows },
    layer: layers,
  } as VegaLiteSpec;
}
