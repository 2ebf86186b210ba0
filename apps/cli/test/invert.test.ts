// `facet invert` as a user runs it, on a tiny run trained here with `facet train` (a few steps).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-cli-invert-'));
const run = join(dir, 'run');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function facet(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--backend', 'wasm'], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
  return { ...r, stderr: r.stderr.replace(/\s*\n ›\s+/g, ' ') };
}

beforeAll(() => {
  const t = facet([
    'train', '--network', 'iresnet18', '--width', '0.125', '--input-size', '32', '--embedding-size', '16',
    '--dataset', 'synthetic:identities=4,images=4', '--batch-size', '8', '--lr-reference-batch', '8', '--scale', '16',
    '--max-steps', '4', '--checkpoint-every', '4', '--output', run, '--json',
  ]);
  expect(t.status, t.stderr).toBe(0);
}, 300_000);

describe('facet invert', () => {
  it('--class: writes one PNG per target, the contact sheet and report.json; --json returns the report', () => {
    const r = facet(['invert', run, '--class', '0,2', '--steps', '6', '--snapshots', '3', '--out', join(dir, 'cls'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.targets).toBe(2);
    expect(out.summary.kind).toBe('class');
    expect(out.images.map((i: { target: string }) => i.target)).toEqual(['class 0', 'class 2']);
    for (const i of out.images) expect(Math.abs(i.cosine)).toBeLessThanOrEqual(1);
    for (const f of out.files.images) expect(existsSync(f)).toBe(true);
    const sheet = PNG.sync.read(readFileSync(out.files.contactSheet));
    // 3 snapshot columns and 2 rows of 32 px with 2 px gaps
    expect([sheet.width, sheet.height]).toEqual([3 * 32 + 4 * 2, 2 * 32 + 3 * 2]);
    const report = JSON.parse(readFileSync(join(dir, 'cls', 'report.json'), 'utf8'));
    expect(report.contactSheet.columns).toEqual(['step 2', 'step 4', 'step 6']);
    expect(report.options.margin.s).toBe(16); // the trained head's margin, read from the checkpoint
  });

  it('--image with a verifier, and the ablation switches', () => {
    const png = new PNG({ width: 40, height: 40 });
    for (let i = 0; i < png.data.length; i += 4) png.data.set([(i / 4) % 255, 100, 200, 255], i);
    writeFileSync(join(dir, 'face.png'), PNG.sync.write(png));
    const r = facet(['invert', join(run, 'model'), '--image', join(dir, 'face.png'), '--verifier', run, '--steps', '4', '--no-bn-prior', '--no-tv', '--scale', '2', '--out', join(dir, 'img'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.priors).toEqual({ bn: false, tv: false, l2: true });
    expect(out.images[0].verifierCosine).toBeTypeOf('number');
    expect(PNG.sync.read(readFileSync(out.files.images[0])).width).toBe(64);
  });

  it('--random: new identities drawn from the run\'s class centres; a verifier run mixes its own centres alike; converged flags', () => {
    // the verifier is the inverted run itself: the same mixture of the same centres, so it must score as the model does
    const r = facet(['invert', run, '--random', '2', '--steps', '4', '--verifier', run, '--converged-cosine', '-1', '--out', join(dir, 'rnd'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.kind).toBe('random');
    expect(out.images[0].target).toMatch(/N\(μ, Σ\) of 4 reference embeddings/);
    expect(out.summary.identityWeight).toBe(8); // 'auto' = s/2 of the trained head (s = 16)
    for (const i of out.images) {
      expect(i.verifierCosine).toBeCloseTo(i.cosine, 3);
      expect(i.verifierImpostorCosine).toBeTypeOf('number');
      expect(i.converged).toBe(i.verifierCosine > i.verifierImpostorCosine);
    }
    expect(out.summary.convergence.cosineThreshold).toBe(-1);
    const report = JSON.parse(readFileSync(join(dir, 'rnd', 'report.json'), 'utf8'));
    expect(report.summary.converged).toBe(out.summary.converged);
    // the paper's recipe: uniform random identities, identity weight 1, and a plain verdict in the text summary
    const p = facet(['invert', run, '--random', '2', '--recipe', 'paper', '--steps', '3', '--out', join(dir, 'paper')]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/recipe paper, identity weight 1/);
    expect(p.stdout).toMatch(/NOT CONVERGED: 0\/2 targets meet the rule .*--random-from centers/);
    const bad = facet(['invert', run, '--random', '2', '--random-from', 'nope.npy', '--steps', '1']);
    expect(bad.stderr).toMatch(/--random-from nope.npy: not centers, sphere or an existing .npy file/);
  });

  it('bad targets give one clear line', () => {
    const none = facet(['invert', run]);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/give the targets: --image face.png, --embedding emb.npy, --class 17 or --random 8/);
    const two = facet(['invert', run, '--random', '2', '--class', '1']);
    expect(two.stderr).toMatch(/give one kind of target, not --class and --random/);
    const range = facet(['invert', run, '--class', '9', '--steps', '1']);
    expect(range.stderr).toMatch(/class 9 is out of range; the head has classes 0..3/);
    expect(range.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
