import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '../src/index.js';

describe('initEngine', () => {
  it('auto picks wasm on a machine without libtensorflow and says why each candidate was skipped', async () => {
    const info = await initEngine({ backend: 'auto' });
    expect(info.backend).toBe('wasm');
    expect(info.attempts.map((a) => a.candidate)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'wasm']);
    expect(info.attempts[0]!.ok).toBe(false);
    expect(info.attempts[0]!.reason).toMatch(/not installed|binding/);
    expect(info.registeredKernels.join(' ')).toContain('Conv2DBackpropFilter');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('switches to the cpu backend on request', async () => {
    const info = await initEngine({ backend: 'cpu' });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await initEngine({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown backend and an unavailable native one with a clear message', async () => {
    await expect(initEngine({ backend: 'gpu' as never })).rejects.toThrow(/not a backend; use one of auto, tensorflow, wasm, cpu/);
    await expect(initEngine({ backend: 'tensorflow' })).rejects.toThrow(/tfjs-node/);
    const saved = process.env.FACET_BACKEND;
    process.env.FACET_BACKEND = 'metal';
    await expect(initEngine()).rejects.toThrow(/FACET_BACKEND="metal"/);
    if (saved === undefined) delete process.env.FACET_BACKEND;
    else process.env.FACET_BACKEND = saved;
  });
});

describe('one tfjs-core', () => {
  it('every @tensorflow package resolves the same tfjs-core file', () => {
    const require = createRequire(import.meta.url);
    const core = realpathSync(require.resolve('@tensorflow/tfjs-core'));
    for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter']) {
      const from = createRequire(realpathSync(require.resolve(`${pkg}/package.json`)));
      expect(realpathSync(from.resolve('@tensorflow/tfjs-core')), pkg).toBe(core);
    }
    expect(dirname(core)).toContain('node_modules/@tensorflow/tfjs-core');
    expect(tf.version.tfjs).toBe('4.22.0');
  });
});
