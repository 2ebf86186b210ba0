import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const facet = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('facet models', () => {
  it('--json lists every backbone with parameters, GFLOPs and embedding size', () => {
    const r = facet(['models', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const byName = new Map(report.backbones.map((b: { name: string }) => [b.name, b]));
    expect([...byName.keys()]).toEqual(['iresnet18', 'iresnet34', 'iresnet50', 'iresnet100', 'iresnet200', 'mobilefacenet', 'mobilefacenet_orig', 'vit_t', 'vit_s']);
    expect(byName.get('iresnet18')).toMatchObject({ parameters: 24_025_600, embeddingSize: 512, inputSize: 112 });
    expect(byName.get('iresnet50')).toMatchObject({ parameters: 43_590_848 });
  });

  it('prints a table, and a bad width is one clear line', () => {
    const r = facet(['models', '--input-size', '56', '--width', '0.25']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^name\s+params\s+GFLOPs\/img\s+embedding/m);
    expect(r.stdout).toMatch(/^mobilefacenet\s+\S+M/m);
    const bad = facet(['models', '--width', '0']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/option width must be a number in/);
  });
});
