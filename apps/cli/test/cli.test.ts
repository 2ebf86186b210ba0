import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));

export function facet(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
}

describe('facet CLI', () => {
  it('doctor --json reports the wasm backend and the registered kernels', () => {
    const out = execFileSync(process.execPath, [bin, 'doctor', '--json', '--probe-ms', '200', '--backend', 'wasm'], { encoding: 'utf8' });
    const report = JSON.parse(out);
    expect(report.engine.backend).toBe('wasm');
    expect(report.engine.registeredKernels.join()).toMatch(/Conv2DBackpropFilter/);
    expect(report.probe).toHaveLength(2);
  });

  it('doctor: auto takes the native engine when its addon is built, and says either way', () => {
    const r = facet(['doctor', '--probe-ms', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^native {7}/m);
    const report = JSON.parse(facet(['doctor', '--json', '--probe-ms', '0']).stdout);
    expect(report.engine.backend).toBe(report.native.available ? 'native' : 'wasm');
    if (report.native.available) expect(r.stdout).toMatch(/native kernels \(\d+\): .*Conv2D/);
  });

  it('a bad backend flag or env value gives one clear line, not a stack trace', () => {
    const r = facet(['doctor', '--backend', 'metal']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Expected --backend=metal to be one of/);
    const r2 = facet(['doctor', '--probe-ms', '0'], { FACET_BACKEND: 'cpu' });
    expect(r2.status).toBe(0);
    expect(r2.stdout).toMatch(/backend {6}cpu/);
  });
});
