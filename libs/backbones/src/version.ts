import { readFileSync } from 'node:fs';

/** Facet's version (this package's, kept in step with the workspace); recorded in checkpoint manifests. */
export const FACET_VERSION: string = (() => {
  try {
    // src/version.ts and dist/index.js both sit one level below the package root
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
