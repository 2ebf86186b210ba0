// `facet quality` as a user runs it: per-image scores to CSV, an ERC with low-resolution images mixed in, and
// clear refusals. The model is a 2-step tiny `facet train` run (its labels.json names the synthetic training set,
// which the UI centre is built from by default).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-cli-quality-'));
const model = join(dir, 'run', 'model');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function facet(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, FACET_BACKEND: 'wasm' }, timeout: 240_000 });
  return { ...r, stderr: r.stderr.replace(/\s*\n ›\s+/g, ' ') };
}

beforeAll(() => {
  const t = facet([
    'train', '--network', 'iresnet18', '--width', '0.125', '--input-size', '32', '--embedding-size', '16',
    '--dataset', 'synthetic:identities=6,images=4', '--batch-size', '8', '--max-steps', '2', '--scale', '16', '--output', 'run',
  ]);
  expect(t.status, t.stderr).toBe(0);
  const s = facet(['data', 'synth', 'faces', '--identities', '2', '--images', '3', '--size', '32']);
  expect(s.status, s.stderr).toBe(0);
}, 240_000);

describe('facet quality', () => {
  it('--erc on synthetic pairs with degraded images: curves for every measure and random, separation, plots, saved UI centre', () => {
    const r = facet([
      'quality', model, '--erc', '--synthetic', '--synthetic-pairs', '120', '--degrade', '0.3', '--fmr', '1e-1',
      '--ser-fiq-samples', '4', '--ui-count', '16', '--save-ui', '--out', 'q', '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.mode).toBe('erc');
    expect(res.ui.source).toMatch(/16 degraded images of synthetic/);
    const set = res.sets[0];
    expect(set.pairs).toBe(120);
    expect(set.erc.curves.map((c: { measure: string }) => c.measure)).toEqual(['ers', 'norm', 'ser-fiq', 'random']);
    expect(Object.keys(set.separation)).toEqual(['ers', 'norm', 'ser-fiq']);
    expect(set.erc.curves[0].points).toHaveLength(20);
    for (const f of ['synthetic-erc-fmr1e-1.png', 'results.json']) expect(existsSync(join(dir, 'q', f))).toBe(true);
    expect(JSON.parse(readFileSync(join(model, 'quality.json'), 'utf8')).uiCenter).toHaveLength(16);
    expect(set.skipped).toEqual([{ measure: 'ri', reason: expect.stringMatching(/no RI head \(train with --recognizability\)/) }]);
  });

  it('scores a folder of images to CSV with the stored UI centre', () => {
    const r = facet(['quality', model, 'faces', '--out', 'scored', '--ser-fiq-samples', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/measure\s+mean\s+min\s+max/);
    const csv = readFileSync(join(dir, 'scored', 'scores.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('path,ers,norm');
    expect(csv).toHaveLength(7);
    expect(csv[1]).toMatch(/^id_0+\/\d+\.png,[0-9.e-]+,[0-9.e-]+$/);
    const j = facet(['quality', model, 'faces', '--out', 'scored', '--format', 'json', '--ser-fiq-samples', '0']);
    expect(j.status, j.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'scored', 'scores.json'), 'utf8'));
    expect(json.images.map((r: { path: string }) => r.path)).toEqual(csv.slice(1).map((l) => l.split(',')[0]));
  });

  it('refuses incomplete requests with one clear line', () => {
    expect(facet(['quality', model, 'faces', '-o', 'scores.csv']).stderr).toMatch(/--out scores.csv looks like a file name; --out is the output folder in every facet command \(this one writes scores.csv/);
    expect(facet(['quality', model, '--erc']).stderr).toMatch(/--erc needs verification pairs: --pairs with --root, --bin, or --synthetic/);
    expect(facet(['quality', model, '--erc', '--pairs', 'p.txt']).stderr).toMatch(/--pairs needs --root/);
    expect(facet(['quality', dir, 'faces']).stderr).toMatch(/is not a model folder \(no manifest.json\)/);
    const bad = facet(['quality', model, '--erc', '--synthetic', '--degrade', '2']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--degrade 2 must be a number in \[0, 1\]/);
  });
});
