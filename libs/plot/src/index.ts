// @facet/plot: charts as Vega-Lite specs, rendered headless to SVG (vega, renderer 'none') and PNG (resvg).
export type { VegaLiteSpec, ChartFiles, AxisScale } from './types.js';
export { DEFAULT_CHART_WIDTH, DEFAULT_CHART_HEIGHT } from './types.js';
export { renderChart, chartToSvg, svgToPng } from './render.js';
export { lineChart, type LineChartOptions } from './line-chart.js';
export { histogramChart, type HistogramChartOptions } from './histogram-chart.js';
export { scatterChart, type ScatterChartOptions, type ScatterPoint } from './scatter-chart.js';
export { chartFonts, type ChartFonts } from './fonts.js';
export { writeFileAtomic } from './write-atomic.js';
