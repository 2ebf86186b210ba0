import { defineConfig } from 'tsup';

// replica-worker is a second entry: ReplicaGroup starts it with new Worker(dist/replica-worker.js) (workers > 1).
// esbuild is only imported when running from TypeScript source (to bundle that worker), never from dist.
export default defineConfig({
  external: ['esbuild'],
  entry: { index: 'src/index.ts', 'replica-worker': 'src/parallel/replica-worker.ts' },
  format: ['esm'],
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
});
