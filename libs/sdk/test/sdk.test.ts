import { describe, expect, it } from 'vitest';
import * as sdk from '../src/index.js';
import { tf as engineTf } from '@facet/engine';

describe('@facet/sdk', () => {
  it('re-exports the one tfjs instance and the engine', async () => {
    expect(sdk.tf).toBe(engineTf);
    const report = await sdk.doctor({ backend: 'wasm', probeMs: 100 });
    expect(report.engine.backend).toBe('wasm');
    expect(report.probe.map((p) => p.name)).toEqual(['matmul', 'conv2d']);
    for (const p of report.probe) expect(p.gflops).toBeGreaterThan(0);
  });
});
