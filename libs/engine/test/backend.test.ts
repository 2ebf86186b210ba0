import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { nativeStatus } from '@facet/native';
import { BATCH_NORM_TRAINING, initEngine, PRELU_GRAD, tf } from '../src/index.js';

const nativeBuilt = nativeStatus().loaded;

describe('initEngine', () => {
  it('auto picks native (oneDNN addon built) or else wasm on a machine without libtensorflow, saying why', async () => {
    const info = await initEngine({ backend: 'auto' });
    const expected = nativeBuilt ? 'native' : 'wasm';
    expect(info.backend).toBe(expected);
    expect(info.attempts.map((a) => a.candidate)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'native', ...(nativeBuilt ? [] : ['wasm'])]);
    expect(info.attempts[0]!.ok).toBe(false);
    expect(info.attempts[0]!.reason).toMatch(/not installed|binding/);
    expect(info.attempts[2]!.reason).toMatch(nativeBuilt ? /oneDNN \d/ : /libdnnl-dev|FACET_NATIVE_DISABLE/);
    expect(info.registeredKernels.join(' ')).toContain(nativeBuilt ? 'Conv2DBackpropFilter (native)' : 'Conv2DBackpropFilter');
    expect(tf.getBackend()).toBe(expected);
  });

  it.skipIf(!nativeBuilt)('native lists native and fallback kernels and carries Facet\'s fused kernels', async () => {
    const info = await initEngine({ backend: 'native' });
    expect(info.backend).toBe('native');
    expect(info.native!.onednn.version).toMatch(/^\d+\.\d+/);
    expect(info.native!.nativeKernels).toEqual(expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', 'BatchMatMul', BATCH_NORM_TRAINING, PRELU_GRAD]));
    expect(info.native!.fallbackKernels).toContain('Transpose');
    expect(info.native!.fallbackKernels).not.toContain('Conv2D');
    expect(tf.getKernel(BATCH_NORM_TRAINING, 'native')).toBeDefined();
    await initEngine({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('a requested native backend that is unavailable fails with one line saying how to enable it', async () => {
    vi.resetModules();
    process.env.FACET_NATIVE_DISABLE = '1';
    try {
      const fresh = await import('../src/backend.js');
      await expect(fresh.initEngine({ backend: 'native' })).rejects.toThrow(/^backend 'native' requested but unavailable: disabled by FACET_NATIVE_DISABLE=1/);
    } finally {
      delete process.env.FACET_NATIVE_DISABLE;
      vi.resetModules();
    }
  });

  it('switches to the cpu backend on request', async () => {
    const info = await initEngine({ backend: 'cpu' });
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await initEngine({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown backend and an unavailable native one with a clear message', async () => {
    await expect(initEngine({ backend: 'gpu' as never })).rejects.toThrow(/not a backend; use one of auto, tensorflow, native, wasm, cpu/);
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
