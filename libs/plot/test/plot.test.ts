import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { chartToSvg, histogramChart, lineChart, renderChart, scatterChart } from '../src/index.js';

export const keep = process.env.FACET_KEEP_PLOTS;
const dir = keep ?? mkdtempSync(join(tmpdir(), 'facet-plot-'));
afterAll(() => { if (!keep) rmSync(dir, { recursive: true, force: true }); });

/** Pixels that differ from the white background, and how many are dark (text, axes). */
function inkStats(pngPath: string): { width: number; height: number; ink: number; dark: number } {
  const png = PNG.sync.read(readFileSync(pngPath));
  let ink = 0;
  let dark = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    if (r < 250 || g < 250 || b < 250) ink++;
    if (r < 80 && g < 80 && b < 80) dark++;
  }
  return { width: png.width, height: png.height, ink, dark };
}

/** Dark pixels inside a horizontal band of the PNG (rows y0..y1): where the title is drawn. */
function darkInRows(pngPath: string, y0: number, y1: number): number {
  const png = PNG.sync.read(readFileSync(pngPath));
  let dark = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i]! < 80 && png.data[i + 1]! < 80 && png.data[i + 2]! < 80) dark++;
    }
  }
  return dark;
}

describe('renderChart', () => {
  it('writes an SVG with the title and axis text and a PNG that decodes with drawn text', async () => {
    const spec = lineChart({
      title: 'ROC of model A',
      x: 'false accept rate',
      y: 'true accept rate',
      xScale: 'log',
      series: [
        { name: 'lfw', points: [[0, 0.1], [1e-4, 0.5], [1e-2, 0.9], [1, 1]] },
        { name: 'agedb', points: [[1e-3, 0.4], [1e-1, 0.8], [1, 1]] },
      ],
    });
    const files = await renderChart(spec, join(dir, 'roc'), { scale: 1 });
    const svg = readFileSync(files.svg, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('ROC of model A');
    expect(svg).toContain('false accept rate');
    expect(svg).toContain('agedb');
    // The x = 0 point cannot sit on a log axis: it is dropped and the subtitle says so.
    expect(svg).toContain('1 point not drawn');
    const png = inkStats(files.png);
    expect(png.width).toBeGreaterThan(400);
    expect(png.ink).toBeGreaterThan(2000);
    // Title glyphs are dark pixels in the top band; without a font resvg would draw none there.
    expect(darkInRows(files.png, 0, 22)).toBeGreaterThan(50);
    // No temp files are left behind by the atomic writes.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('scales the PNG and rejects a path with an extension or a bad scale', async () => {
    const spec = lineChart({ title: 'loss', x: 'step', y: 'loss', series: [{ name: 'train', points: [[0, 2], [1, 1]] }] });
    const a = inkStats((await renderChart(spec, join(dir, 'a'), { scale: 1 })).png);
    const b = inkStats((await renderChart(spec, join(dir, 'b'), { scale: 2 })).png);
    expect(b.width).toBe(2 * a.width);
    await expect(renderChart(spec, join(dir, 'c.png'))).rejects.toThrow(/without the extension/);
    await expect(renderChart(spec, join(dir, 'd'), { scale: 0 })).rejects.toThrow(/scale 0/);
  });
});

describe('histogramChart', () => {
  it('bins every group on shared edges into fractions that sum to 1', () => {
    const genuine = Float32Array.from({ length: 500 }, (_, i) => 0.4 + 0.5 * Math.sin(i) ** 2);
    const impostor = Float32Array.from({ length: 2000 }, (_, i) => -0.2 + 0.4 * Math.cos(i) ** 2);
    const spec = histogramChart({ title: 'scores', x: 'cosine', groups: [{ name: 'genuine', values: genuine }, { name: 'impostor', values: impostor }], bins: 25 });
    const rows = (spec as unknown as { data: { values: Array<{ group: string; start: number; end: number; value: number }> } }).data.values;
    expect(rows).toHaveLength(50);
    for (const g of ['genuine', 'impostor']) {
      const r = rows.filter((x) => x.group === g);
      expect(r.reduce((s, x) => s + x.value, 0)).toBeCloseTo(1, 12);
    }
    // Independent count: how many impostor values fall in the first bin's [start, end).
    const first = rows.find((x) => x.group === 'impostor')!;
    const expected = Array.from(impostor).filter((v) => v >= first.start && v < first.end).length / impostor.length;
    expect(first.value).toBeCloseTo(expected, 12);
    expect(first.start).toBeCloseTo(Math.min(...impostor, ...genuine), 6);
  });

  it('renders, and says how many non-finite values it skipped', async () => {
    const svg = await chartToSvg(histogramChart({ title: 'norms', x: 'norm', groups: [{ name: 'all', values: [1, 2, 2, 3, NaN] }], normalize: false }));
    expect(svg).toContain('norms');
    expect(svg).toContain('1 non-finite value not counted');
    expect(() => histogramChart({ title: 't', x: 'x', groups: [{ name: 'a', values: [1] }], bins: 0 })).toThrow(/bins=0/);
  });
});

describe('scatterChart', () => {
  it('draws points with labels and groups', async () => {
    const spec = scatterChart({
      title: 'speed vs accuracy',
      x: 'images / s',
      y: 'LFW accuracy',
      points: [
        { x: 120, y: 0.95, label: 'r18', group: 'iresnet' },
        { x: 60, y: 0.97, label: 'r50', group: 'iresnet' },
        { x: 300, y: 0.93, label: 'mbf', group: 'mobilefacenet' },
      ],
    });
    const files = await renderChart(spec, join(dir, 'scatter'), { scale: 1 });
    const svg = readFileSync(files.svg, 'utf8');
    for (const t of ['speed vs accuracy', 'r50', 'mbf', 'mobilefacenet']) expect(svg).toContain(t);
    expect(inkStats(files.png).dark).toBeGreaterThan(200);
  });
});
