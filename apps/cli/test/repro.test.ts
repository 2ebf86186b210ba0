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

  it('--train-run (one --jobs process) needs exactly one experiment, and one with a run ledger', () => {
    const two = facet(['repro', '--only', 'margins,contrastive', '--train-run', 'arcface-s2048', '--quick', '--out', '/tmp/facet-repro-cli-test']);
    expect(two.status).not.toBe(0);
    expect(two.stderr).toMatch(/--train-run trains one run of one experiment: give --only a single experiment/);
    const noLedger = facet(['repro', '--only', 'inversion', '--train-run', 'x', '--quick', '--out', '/tmp/facet-repro-cli-test']);
    expect(noLedger.status).not.toBe(0);
    expect(noLedger.stderr).toMatch(/inversion keeps no run ledger; choose one of margins, subcenter, partial-fc, contrastive/);
    for (const r of [two, noLedger]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
