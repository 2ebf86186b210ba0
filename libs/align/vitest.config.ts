import { defineConfig, defaultServerConditions } from 'vite';

export default defineConfig({
  resolve: { conditions: [...defaultServerConditions, '@facet/source'] },
  ssr: { resolve: { conditions: [...defaultServerConditions, '@facet/source'] } },
  test: { pool: 'forks', testTimeout: 120_000, include: ['test/**/*.test.ts'] },
});
