// Where the loader's worker script is. From the built package it is dist/loader-worker.js next to dist/index.js.
// From TypeScript source (vitest, dev scripts) Node cannot run the .ts directly, so the worker entry is bundled
// once per process with esbuild (present as tsup's dependency in the dev tree) into node_modules/.cache, where its
// npm imports still resolve.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataError, reason } from './errors.js';

let cached: Promise<URL> | undefined;

export function loaderWorkerUrl(): Promise<URL> {
  cached ??= resolveWorkerUrl();
  return cached;
}

async function resolveWorkerUrl(): Promise<URL> {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) {
    const built = join(dirname(here), 'loader-worker.js');
    if (existsSync(built)) return pathToFileURL(built);
    // bundled into someone else's file: use the installed package's build
    try {
      const pkg = fileURLToPath(import.meta.resolve('@facet/data'));
      const installed = join(dirname(pkg), 'loader-worker.js');
      if (existsSync(installed)) return pathToFileURL(installed);
    } catch {
      // not resolvable from here
    }
    throw new DataError(`${built}: the loader's worker script is missing from the build; rebuild @facet/data (npm run build) or use numWorkers: 0`);
  }
  const srcDir = dirname(here);
  const entry = join(srcDir, 'loader-worker.ts');
  const outDir = join(srcDir, '..', 'node_modules', '.cache', 'facet-data');
  // one bundle per version of the sources, shared by concurrent processes (written to a temp name, then renamed)
  const outfile = join(outDir, `loader-worker.${sourceStamp(srcDir)}.mjs`);
  if (existsSync(outfile)) return pathToFileURL(outfile);
  const tmp = `${outfile}.${process.pid}.tmp`;
  let esbuild: { build(o: Record<string, unknown>): Promise<unknown> };
  try {
    esbuild = (await import('esbuild' as string)) as typeof esbuild;
  } catch (e) {
    throw new DataError(`running @facet/data from source needs esbuild to bundle the loader worker (${reason(e)}); build the package or use numWorkers: 0`);
  }
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'external-npm',
        setup(b: { onResolve(o: { filter: RegExp }, cb: (a: { path: string }) => unknown): void }) {
          b.onResolve({ filter: /^[^./]/ }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  renameSync(tmp, outfile);
  // drop bundles of older source versions
  for (const f of readdirSync(outDir)) {
    if (f.startsWith('loader-worker.') && join(outDir, f) !== outfile && Date.now() - statSync(join(outDir, f)).mtimeMs > 3600_000) {
      try {
        unlinkSync(join(outDir, f));
      } catch {
        // another process removed it
      }
    }
  }
  return pathToFileURL(outfile);
}

/** Hash of the paths, sizes and mtimes of every .ts under `dir`. */
function sourceStamp(dir: string): string {
  const h = createHash('sha1');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const st = statSync(p);
        h.update(`${p}:${st.size}:${st.mtimeMs};`);
      }
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 12);
}
