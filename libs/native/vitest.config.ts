import { defineConfig, defaultServerConditions } from 'vite';

export default defineConfig({
  resolve: { conditions: [...defaultServerConditions, '@facet/source'] },
  ssr: { resolve: { conditions: [...defaultServerConditions, '@facet/source'] } },
  // FACET_NATIVE_POISON: every output buffer starts as NaN, so a kernel that leaves an element unwritten fails
  test: { pool: 'forks', testTimeout: 120_000, include: ['test/**/*.test.ts'], env: { FACET_NATIVE_POISON: '1' } },
});
