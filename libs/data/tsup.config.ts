import { defineConfig } from 'tsup';

// loader-worker is a second entry: BatchLoader starts it with new Worker(dist/loader-worker.js).
// esbuild is only imported when running from TypeScript source (to bundle the worker), never from dist.
export default defineConfig({
  external: ['esbuild'],
  entry: { index: 'src/index.ts', 'loader-worker': 'src/loader-worker.ts' },
  format: ['esm'],
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
});
