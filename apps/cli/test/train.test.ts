// `facet train` as a user runs it: the kill -9 and resume test (same loss curve as an uninterrupted run at the same
// seed), and clear refusals.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const common = [
  '--network', 'iresnet18', '--width', '0.125', '--input-size', '32', '--embedding-size', '32',
  '--dataset', 'synthetic:identities=6,images=8', '--batch-size', '8', '--lr-reference-batch', '8',
  '--num-epoch', '4', '--scale', '16', '--checkpoint-every', '4', '--frequent', '1', '--backend', 'wasm',
];

function losses(out: string): number[] {
  return readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => typeof r.loss === 'number').map((r) => r.loss);
}

function stepsLogged(out: string): number {
  const p = join(out, 'log.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.includes('"loss"')).length : 0;
}

describe('facet train', () => {
  it('killed with SIGKILL mid-run, --resume continues with the same loss curve as an uninterrupted run', async () => {
    const ref = mkdtempSync(join(tmpdir(), 'facet-ref-'));
    const r = spawnSync(process.execPath, [bin, 'train', ...common, '--output', ref, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const refLosses = losses(ref);
    expect(refLosses.length).toBe(24);

    const out = mkdtempSync(join(tmpdir(), 'facet-kill-'));
    const child = spawn(process.execPath, [bin, 'train', ...common, '--output', out, '--json'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (stepsLogged(out) >= 10) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      });
    });
    await new Promise((r2) => child.on('exit', r2));
    const killedAt = stepsLogged(out);
    expect(killedAt).toBeLessThan(24);
    const resumed = spawnSync(process.execPath, [bin, 'train', '--resume', out, '--json'], { encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    const got = losses(out);
    expect(got.length).toBe(24);
    got.forEach((l, i) => expect(Math.abs(l - refLosses[i]!), `step ${i + 1}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(refLosses[i]!))));
  });

  it('refuses an unknown config key, a bad sample rate and an occupied output directory with one clear line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facet-bad-'));
    const bad = spawnSync(process.execPath, [bin, 'train', '--sample-rate', '1.5', '--output', dir], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/"sampleRate" must be > 0 and ≤ 1 \(got 1.5\)/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const r = spawnSync(process.execPath, [bin, 'train', ...common, '--max-steps', '1', '--output', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const again = spawnSync(process.execPath, [bin, 'train', ...common, '--max-steps', '1', '--output', dir], { encoding: 'utf8' });
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/holds another run/);
  });
});
