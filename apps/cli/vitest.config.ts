import { defineConfig } from 'vite';

export default defineConfig({ test: { pool: 'forks', testTimeout: 300_000, include: ['test/**/*.test.ts'] } });
