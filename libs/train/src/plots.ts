// Training curves from the run's JSON-lines logs, drawn with the charting lib (Vega-Lite → SVG/PNG).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, renderChart } from '@facet/plot';

function readJsonl(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Render loss, accuracy, learning rate and validation accuracy against steps into <run>/plots; returns the files. */
export async function plotRun(runDir: string): Promise<string[]> {
  const log = readJsonl(join(runDir, 'log.jsonl')).filter((r) => typeof r.loss === 'number');
  const val = readJsonl(join(runDir, 'val.jsonl'));
  if (log.length === 0) throw new Error(`${runDir}: log.jsonl has no training steps to plot`);
  const dir = join(runDir, 'plots');
  mkdirSync(dir, { recursive: true });
  const series = (key: string) => log.filter((r) => typeof r[key] === 'number').map((r) => [r.step as number, r[key] as number] as [number, number]);
  const files: string[] = [];
  const charts: Array<[string, ReturnType<typeof lineChart>]> = [
    ['loss', lineChart({ title: 'Training loss', x: 'step', y: 'loss', series: [{ name: 'loss', points: series('loss') }] })],
    ['lr', lineChart({ title: 'Learning rate', x: 'step', y: 'learning rate', series: [{ name: 'lr', points: series('lr') }] })],
  ];
  const acc = series('accuracy');
  if (acc.length) charts.push(['accuracy', lineChart({ title: 'Training accuracy (batch)', x: 'step', y: 'accuracy', series: [{ name: 'accuracy', points: acc }] })]);
  if (val.length) {
    const targets = [...new Set(val.map((v) => String(v.target)))];
    charts.push([
      'validation',
      lineChart({
        title: 'Validation verification accuracy',
        x: 'step',
        y: 'accuracy',
        series: targets.map((t) => ({ name: t, points: val.filter((v) => v.target === t).map((v) => [v.step as number, v.accuracy as number] as [number, number]) })),
      }),
    ]);
  }
  for (const [name, spec] of charts) {
    const f = await renderChart(spec, join(dir, name));
    files.push(f.svg, f.png);
  }
  return files;
}
