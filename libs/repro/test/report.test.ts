import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleaningScores, formatNumber, parseExperimentList, pearson, renderTable, spearman, writeReport, type ExperimentResult } from '../src/index.js';

describe('correlations', () => {
  it('match a float64 loop reference and rank ties', () => {
    const x = [1, 2, 3, 4, 10];
    const y = [2, 1, 4, 3, 5];
    const mx = x.reduce((a, b) => a + b) / 5;
    const my = y.reduce((a, b) => a + b) / 5;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < 5; i++) {
      sxy += (x[i]! - mx) * (y[i]! - my);
      sxx += (x[i]! - mx) ** 2;
      syy += (y[i]! - my) ** 2;
    }
    expect(pearson(x, y)).toBeCloseTo(sxy / Math.sqrt(sxx * syy), 12);
    // Spearman: rank differences d = [0,-1,1,-1,0]... closed form 1 − 6Σd²/(n(n²−1)) without ties
    expect(spearman(x, y)).toBeCloseTo(1 - (6 * 4) / (5 * 24), 12);
    expect(spearman([1, 1, 2], [3, 3, 4])).toBeCloseTo(1, 12);
    expect(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))).toBe(true);
  });
});

describe('cleaningScores', () => {
  it('precision and recall of the dropped set', () => {
    const dropped = Uint8Array.from([1, 1, 0, 0, 1, 0]);
    const corrupted = Uint8Array.from([1, 0, 1, 0, 1, 0]);
    expect(cleaningScores(dropped, corrupted)).toEqual({ precision: 2 / 3, recall: 2 / 3, dropped: 3, corrupted: 3 });
    expect(Number.isNaN(cleaningScores(new Uint8Array(3), new Uint8Array(3)).precision)).toBe(true);
  });
});

describe('report', () => {
  const result: ExperimentResult = {
    name: 'margins',
    title: 'Margin heads',
    claim: 'ArcFace wins.',
    status: 'done',
    tables: [{ title: 'T', columns: ['accuracy %'], rows: [{ setting: 'arc|face', values: { 'accuracy %': 91.234 }, std: { 'accuracy %': 1.5 }, seeds: 3, command: 'facet train --head arcface' }] }],
    plots: ['margins/accuracy.png'],
    findings: ['Best: arcface.'],
    seconds: 12,
    sizes: { width: 0.125 },
  };
  it('renders values with ± std, escapes pipes, names the command', () => {
    const md = renderTable(result.tables[0]!);
    expect(md).toContain('| arc\\|face | 91.23 ± 1.50 | `facet train --head arcface` |');
    expect(formatNumber(NaN)).toBe('–');
    expect(formatNumber(0.001234)).toBe('1.23e-3');
  });
  it('writes REPORT.md from the results files that exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repro-'));
    mkdirSync(join(dir, 'margins'));
    writeFileSync(join(dir, 'margins', 'results.json'), JSON.stringify(result));
    const text = readFileSync(writeReport(dir, { command: 'facet repro --quick', quick: true, machine: 'test' }), 'utf8');
    expect(text).toContain('## 1. Margin heads (`margins`) — done');
    expect(text).toContain('![margins/accuracy.png](margins/accuracy.png)');
    expect(text).toContain('- Best: arcface.');
    expect(text).not.toContain('subcenter');
  });
  it('validates --only', () => {
    expect(parseExperimentList('margins, subcenter')).toEqual(['margins', 'subcenter']);
    expect(() => parseExperimentList('margin')).toThrow(/unknown experiment "margin"/);
  });
});

describe('verdict', () => {
  it('never calls a single-seed difference a contradiction; uses 2σ with seeds', async () => {
    const { verdict } = await import('../src/experiments/common.js');
    expect(verdict(-5, 0, 1)).toMatch(/opposite direction.*single seed/);
    expect(verdict(-5, 1, 3)).toMatch(/CONTRADICTS/);
    expect(verdict(-1.5, 1, 3)).toMatch(/within seed noise/);
    expect(verdict(3, 1, 3)).toMatch(/agrees/);
  });
});
