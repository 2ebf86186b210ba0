import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const facet = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('facet repro', () => {
  it('an unknown --only experiment gives one clear line listing the valid names', () => {
    const r = facet(['repro', '--only', 'margin', '--out', '/tmp/facet-repro-cli-test']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--only: unknown experiment "margin"; choose from margins, subcenter, partial-fc/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
