import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { chartFonts, warnIfNoFonts } from './fonts.js';
import type { ChartFiles, VegaLiteSpec } from './types.js';
import { writeFileAtomic } from './write-atomic.js';

/** Compile a Vega-Lite spec and render it headless (renderer 'none': no canvas, no DOM) to an SVG string. */
export async function chartToSvg(spec: VegaLiteSpec): Promise<string> {
  let view: View | undefined;
  try {
    const vg = compile(spec).spec;
    view = new View(parse(vg), { renderer: 'none' });
    return await view.toSVG();
  } catch (err) {
    throw new Error(`chart "${titleOf(spec)}" could not be rendered: ${(err as Error).message}`);
  } finally {
    view?.finalize();
  }
}

/** Rasterise an SVG to PNG bytes with resvg (`scale` = pixels per CSS pixel). */
export function svgToPng(svg: string, opts: { scale?: number } = {}): Uint8Array {
  const scale = opts.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) throw new Error(`chart scale ${scale} is out of range; use a number in (0, 16].`);
  const fonts = chartFonts();
  warnIfNoFonts(fonts);
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: {
      loadSystemFonts: fonts.systemFallback,
      fontDirs: fonts.dirs,
      ...(fonts.family ? { defaultFontFamily: fonts.family, sansSerifFamily: fonts.family } : {}),
    },
  });
  return resvg.render().asPng();
}

/**
 * Render a spec to `<outBase>.svg` and `<outBase>.png` (each written atomically). The PNG is `scale` (default 2)
 * times the spec's pixel size so that it stays sharp in reports.
 */
export async function renderChart(spec: VegaLiteSpec, outBase: string, opts: { scale?: number } = {}): Promise<ChartFiles> {
  if (/\.(svg|png)$/i.test(outBase)) {
    throw new Error(`renderChart writes <outBase>.svg and <outBase>.png; pass "${outBase.replace(/\.(svg|png)$/i, '')}" without the extension.`);
  }
  const svg = await chartToSvg(spec);
  const png = svgToPng(svg, opts);
  const files: ChartFiles = { svg: `${outBase}.svg`, png: `${outBase}.png` };
  writeFileAtomic(files.svg, svg);
  writeFileAtomic(files.png, png);
  return files;
}

function titleOf(spec: VegaLiteSpec): string {
  const t = (spec as { title?: unknown }).title;
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && 'text' in t) return String((t as { text: unknown }).text);
  return '(untitled)';
}
