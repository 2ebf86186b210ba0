import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite specification (any top-level spec vega-lite 6 compiles). */
export type VegaLiteSpec = TopLevelSpec;

/** Paths of the files a chart was written to. */
export interface ChartFiles {
  svg: string;
  png: string;
}

/** Axis scale of a line or scatter chart. */
export type AxisScale = 'linear' | 'log';

/** Default chart size in CSS pixels (the PNG is `scale` times larger). */
export const DEFAULT_CHART_WIDTH = 480;
export const DEFAULT_CHART_HEIGHT = 300;
