// `facet train --init model.pth`: the file is imported once into the cache (keyed by content) and the run starts
// from that folder; the folder holds exactly the imported weights.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importModel, initEngine, initModelFolder, loadBackbone, resolveConfig } from '../src/index.js';

const fixture = join(__dirname, '..', '..', 'interop', 'test', 'fixtures', 'ir_tiny_ddp.pth');

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'facet-cache-'));
});

describe('initModelFolder', () => {
  it('imports a .pth once into the cache; the folder holds the imported weights and sets the architecture', async () => {
    const reports: string[] = [];
    const dir = await initModelFolder(fixture, { onReport: (r) => reports.push(r.network) });
    expect(dir.startsWith(process.env.XDG_CACHE_HOME!)).toBe(true);
    expect(reports).toEqual(['iresnet18']);
    const written = statSync(join(dir, 'weights.bin')).mtimeMs;
    expect(await initModelFolder(fixture, { onReport: (r) => reports.push(r.network) })).toBe(dir);
    expect(reports).toHaveLength(1);
    expect(statSync(join(dir, 'weights.bin')).mtimeMs).toBe(written);

    const direct = await importModel(fixture);
    const cached = await loadBackbone(dir);
    const a = direct.getWeights();
    const b = cached.getWeights();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(Array.from(b[k]!.dataSync()), k).toEqual(Array.from(a[k]!.dataSync()));
    const cfg = resolveConfig({ overrides: { init: dir } });
    expect([cfg.network, cfg.embeddingSize, cfg.inputSize, cfg.width]).toEqual([direct.name, direct.embeddingSize, direct.inputSize, direct.options.width]);
    direct.dispose();
    cached.dispose();
  });

  it('passes folders through and names a missing path', async () => {
    const d = mkdtempSync(join(tmpdir(), 'facet-init-'));
    expect(await initModelFolder(d)).toBe(d);
    await expect(initModelFolder(join(d, 'nope.pth'))).rejects.toThrow(/--init .*nope.pth: no such file or folder/);
  });
});
