import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const facet = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

const dir = mkdtempSync(join(tmpdir(), 'facet-measure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A minimal .npy v1.0 '<f4' writer, independent of Facet's. */
function writeNpy(path: string, rows: number[][]): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${rows[0]!.length}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const body = Buffer.from(Float32Array.from(rows.flat()).buffer);
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function views(spread: number, noise: number) {
  const v1: number[][] = [];
  const v2: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < 40; i++) {
    const k = i % 4;
    const base = [0, 1, 2, 3, 4].map((j) => (j === k ? 1 : 0) + spread * Math.sin(7 * i + 3 * j));
    v1.push(base.map((x, j) => x + noise * Math.cos(11 * i + j)));
    v2.push(base.map((x, j) => x + noise * Math.sin(13 * i + 5 * j)));
    labels.push(`person${k}`);
  }
  return { v1, v2, labels };
}

const unit = (r: number[]) => r.map((x) => x / Math.hypot(...r));

describe('facet measure', () => {
  const run = (name: string, spread: number, noise: number) => {
    const v = views(spread, noise);
    writeNpy(join(dir, `${name}1.npy`), v.v1);
    writeNpy(join(dir, `${name}2.npy`), v.v2);
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(v.labels));
    const r = facet(
      ['measure', '--embeddings', join(dir, `${name}1.npy`), '--embeddings2', join(dir, `${name}2.npy`), '--labels', join(dir, `${name}.json`), '--out', join(dir, name), '--json', '--no-plots', '--backend', 'wasm'],
    );
    return { r, v };
  };

  it('measures precomputed embeddings: JSON result, measure.json, and values that match a direct computation', () => {
    const { r, v } = run('a', 0.2, 0.1);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    const expected = v.v1.reduce((s, row, i) => s + unit(row).reduce((t, x, j) => t + (x - unit(v.v2[i]!)[j]!) ** 2, 0), 0) / 40;
    expect(result.report.alignment).toBeCloseTo(expected, 6);
    expect(result.report.classes).toBe(4);
    expect(result.report.nearestCenter.accuracy).toBe(1);
    expect(existsSync(join(dir, 'a', 'measure.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'a', 'measure.json'), 'utf8')).report.images).toBe(40);
  });

  it('--compare puts two runs side by side; missing inputs give one clear line', () => {
    expect(run('b', 0.8, 0.6).r.status).toBe(0);
    const c = facet(['measure', '--compare', join(dir, 'a'), join(dir, 'b', 'measure.json'), '--no-plots']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/alignment E\|\|f1-f2\|\|²\s+\S+\s+\S+\s+A/);
    const bad = facet(['measure', '--embeddings', join(dir, 'a1.npy'), '--labels', join(dir, 'a.json')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/precomputed input needs all three/);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
