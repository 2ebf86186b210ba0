import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-cli-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function facet(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { ...r, stderr: r.stderr.replace(/\s*\n ›\s+/g, ' ') };
}

describe('facet data', () => {
  it('synth → inspect → convert → inspect the .rec', () => {
    const s = facet(['data', 'synth', 'faces', '--identities', '4', '--images', '3', '--size', '32', '--bin', 'val.bin', '--pairs', '20', '--bin-identities', '5', '--json']);
    expect(s.status, s.stderr).toBe(0);
    const synth = JSON.parse(s.stdout);
    expect(synth).toMatchObject({ images: 12, identities: 4, bin: { pairs: 20 } });
    expect(synth.bin.rawPixelAccuracy).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'faces', 'id_00003', '002.png'))).toBe(true);

    const i = facet(['data', 'inspect', 'faces', '--json']);
    expect(i.status, i.stderr).toBe(0);
    const rep = JSON.parse(i.stdout);
    expect(rep).toMatchObject({ kind: 'folder', images: 12, identities: 4, sizes: [{ size: '32×32', count: 12 }], unreadable: [] });

    const c = facet(['data', 'convert', 'faces', 'faces.rec', '--size', '32']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/wrote 12 images of 4 identities to faces\.rec \+ faces\.idx/);
    const r = JSON.parse(facet(['data', 'inspect', 'faces.rec', '--json']).stdout);
    expect(r).toMatchObject({ kind: 'rec', images: 12, identities: 4, unreadable: [] });
    const text = facet(['data', 'inspect', 'faces.rec']).stdout;
    expect(text).toMatch(/per identity min 3, .* max 3/);
  });

  it('split → a train folder of the other identities and balanced held-out pairs; a non-empty destination is refused', () => {
    expect(facet(['data', 'synth', 'people', '--identities', '8', '--images', '3', '--size', '32']).status).toBe(0);
    const s = facet(['data', 'split', 'people', 'split', '--held-out', '4', '--pairs', '24', '--folds', '2', '--json']);
    expect(s.status, s.stderr).toBe(0);
    const r = JSON.parse(s.stdout);
    expect(r).toMatchObject({ train: { identities: 4, images: 12 }, test: { identities: 4, images: 12 }, pairs: { genuine: 12, impostor: 12, folds: 2 } });
    const t = facet(['data', 'inspect', 'split/train', '--json']);
    expect(JSON.parse(t.stdout)).toMatchObject({ kind: 'folder', images: 12, identities: 4 });
    const again = facet(['data', 'split', 'people', 'split']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/split: exists and is not empty; pass a new or empty folder/);
  });

  it('bad input gives one clear line and a non-zero exit', () => {
    const a = facet(['data', 'inspect', 'missing-folder']);
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/missing-folder: no such folder\. Pass a folder laid out as root\/<identity>\/<image>/);
    expect(a.stderr).not.toMatch(/at .*\.js:\d+/);
    writeFileSync(join(dir, 'lonely.rec'), 'x');
    const b = facet(['data', 'convert', 'faces', 'out.rec', '--size', '16', '--strict']);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/12 image\(s\) are not 16×16/);
    const c = facet(['data', 'inspect', 'lonely.rec']);
    expect(c.stderr).toMatch(/lonely\.idx: missing; .*facet data reindex/);
  });
});
