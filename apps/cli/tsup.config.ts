import { defineConfig } from 'tsup';

// index.ts is listed so the output keeps dist/commands/... (a lone glob entry is flattened).
export default defineConfig({
  entry: ['src/index.ts', 'src/commands/**/*.ts'],
  format: ['esm'],
  target: 'node20',
  clean: true,
  sourcemap: true,
});
