// `facet doctor` on the native engine: oneDNN's ISA and the native vs fallback (tfjs cpu JS) kernel lists, or the
// one-line reason (with how to enable it) when the addon is not built.
import { describe, expect, it } from 'vitest';
import { nativeStatus } from '@facet/engine';
import * as sdk from '../src/index.js';

describe('doctor and the native engine', () => {
  it('reports the native engine whether or not it is built', async () => {
    const built = nativeStatus().loaded;
    const report = await sdk.doctor(built ? { backend: 'native', probeMs: 100 } : { backend: 'wasm', probeMs: 0 });
    expect(report.native.available).toBe(built);
    if (!built) {
      expect(report.native.summary).toMatch(/libdnnl-dev|FACET_NATIVE_DISABLE/);
      return;
    }
    expect(report.engine.backend).toBe('native');
    expect(report.native.isa).toBeTruthy();
    expect(report.native.impls!.conv_fwd!.length).toBeGreaterThan(0); // the probe's convolution ran on oneDNN
    expect(report.native.nativeKernels).toContain('Conv2D');
    expect(report.native.fallbackKernels).toContain('Transpose');
    expect(report.notes.join('\n')).toMatch(/fallback kernels on tfjs's cpu JS/);
    console.log(report.notes.join('\n'));
  });
});
