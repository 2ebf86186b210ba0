import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const photos = fileURLToPath(new URL('../../../libs/align/test/fixtures/photos', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-cli-align-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function facet(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
  return { ...r, stderr: r.stderr.replace(/\s*\n ›\s+/g, ' ') };
}

describe('facet data align', () => {
  it('aligns a photo folder, keeps the layout and lists the image that gave no crop', () => {
    for (const id of ['nasa-eileen-collins', 'usn-grace-hopper']) {
      mkdirSync(join(dir, 'photos', id), { recursive: true });
      for (const f of ['astronaut.jpg', 'grace_hopper.jpg']) if (existsSync(join(photos, id, f))) copyFileSync(join(photos, id, f), join(dir, 'photos', id, f));
    }
    writeFileSync(join(dir, 'photos', 'usn-grace-hopper', 'broken.jpg'), 'not a jpeg');
    const r = facet(['data', 'align', 'photos', 'aligned', '--size', '96', '--min-face', '20']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/aligned 2 of 3 images \(66\.7%\) of 2 identities: 2 crops of 96×96 in aligned/);
    expect(r.stdout).toMatch(/usn-grace-hopper\/broken\.jpg\s+unreadable\s+not a readable image/);
    expect(existsSync(join(dir, 'aligned', 'nasa-eileen-collins', 'astronaut.png'))).toBe(true);
    expect(existsSync(join(dir, 'aligned', 'usn-grace-hopper', 'grace_hopper.png'))).toBe(true);
    expect(existsSync(join(dir, 'aligned', 'contact-sheet.png'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'aligned', 'align.json'), 'utf8'));
    expect(manifest).toMatchObject({ size: 96, options: { multiple: 'largest', minFace: 20, minScore: 0.5 } });
    expect(manifest.images).toHaveLength(3);

    const j = facet(['data', 'align', 'photos', 'aligned-json', '--multiple', 'skip', '--detector', 'tiny', '--json']);
    expect(j.status, j.stderr).toBe(0);
    const report = JSON.parse(j.stdout.slice(j.stdout.indexOf('{')));
    expect(report).toMatchObject({ images: 3, aligned: 2, crops: 2, unreadable: [{ file: 'usn-grace-hopper/broken.jpg' }] });
    expect(report.detector).toMatch(/tiny_face_detector/);
  }, 600_000);

  it('bad input gives one clear line and a non-zero exit', () => {
    const a = facet(['data', 'align', 'missing-folder', 'out']);
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/facet data align: missing-folder: no such folder/);
    expect(a.stderr).not.toMatch(/at .*\.js:\d+/);
    const b = facet(['data', 'align', 'photos', 'out', '--min-score', '1.5']);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/--min-score 1\.5: must be a number between 0 and 1/);
    const c = facet(['data', 'align', 'photos', 'out', '--multiple', 'most']);
    expect(c.status).not.toBe(0);
    expect(c.stderr).toMatch(/--multiple/);
  }, 300_000);
});

describe('--align on embed (raw photos in one command)', () => {
  it('aligns once beside the folder, embeds the crops, and reuses the alignment next time', () => {
    const fixtureModel = fileURLToPath(new URL('../../../libs/interop/test/fixtures/ir_tiny_ddp.pth', import.meta.url));
    copyFileSync(fixtureModel, join(dir, 'tiny.pth'));
    expect(facet(['import', 'tiny.pth', '--out', 'tiny']).status).toBe(0);
    for (const id of ['nasa-eileen-collins', 'usn-grace-hopper']) {
      mkdirSync(join(dir, 'raw', id), { recursive: true });
      for (const f of ['astronaut.jpg', 'grace_hopper.jpg']) if (existsSync(join(photos, id, f))) copyFileSync(join(photos, id, f), join(dir, 'raw', id, f));
    }
    const first = facet(['embed', 'tiny', 'raw', '--align', '-o', 'emb']);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/aligned raw: 2\/2 images with a face \(100\.0 %\)/);
    expect(first.stderr).not.toMatch(/ignored .* non-image/);
    expect(first.stdout).toMatch(/embedded 2 images of 2 identities/);
    // the model takes 32 px: the crops are the 112 template scaled to 32
    expect(existsSync(join(dir, 'raw.aligned32', 'usn-grace-hopper', 'grace_hopper.png'))).toBe(true);
    const again = facet(['embed', 'tiny', 'raw', '--align', '-o', 'emb2']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/--align: reusing .*raw\.aligned32/);
    expect(readFileSync(join(dir, 'emb2', 'embeddings.npy')).equals(readFileSync(join(dir, 'emb', 'embeddings.npy')))).toBe(true);
  });
});
