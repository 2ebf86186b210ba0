// Where the replica worker script is. Built: dist/replica-worker.js next to dist/index.js (a second tsup entry).
// From TypeScript source (vitest, dev scripts) Node cannot run .ts, so the worker entry is bundled once per source
// version with esbuild (tsup's own dependency) into node_modules/.cache. Unlike the data loader's worker, the
// Facet libs are bundled from *source* too (the '@facet/source' condition): the replica must run the same backbone
// code as the main thread, which may be newer than their dist/. Other npm packages (tfjs) stay external.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

let cached: Promise<URL> | undefined;

export function replicaWorkerUrl(): Promise<URL> {
  cached ??= resolveWorkerUrl();
  return cached;
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function resolveWorkerUrl(): Promise<URL> {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) {
    const built = join(dirname(here), 'replica-worker.js');
    if (existsSync(built)) return pathToFileURL(built);
    try {
      const installed = join(dirname(fileURLToPath(import.meta.resolve('@facet/train'))), 'replica-worker.js');
      if (existsSync(installed)) return pathToFileURL(installed);
    } catch {
      // not resolvable from here
    }
    throw new Error(`${built}: the training replica's worker script is missing from the build; rebuild @facet/train (npm run build) or train with workers=1`);
  }
  const srcDir = dirname(here);
  const libsDir = join(srcDir, '..', '..', '..');
  const outDir = join(srcDir, '..', '..', 'node_modules', '.cache', 'facet-train');
  const outfile = join(outDir, `replica-worker.${sourceStamp(libsDir)}.mjs`);
  if (existsSync(outfile)) return pathToFileURL(outfile);
  let esbuild: { build(o: Record<string, unknown>): Promise<unknown> };
  try {
    esbuild = (await import('esbuild' as string)) as typeof esbuild;
  } catch (e) {
    throw new Error(`running @facet/train from source needs esbuild to bundle the replica worker (${reason(e)}); build the package or train with workers=1`);
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  await esbuild.build({
    entryPoints: [join(srcDir, 'replica-worker.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@facet/source'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'external-npm',
        setup(b: { onResolve(o: { filter: RegExp }, cb: (a: { path: string }) => unknown): void }) {
          // bare imports other than Facet's own libs resolve at run time from node_modules (esbuild's filters are Go
          // regular expressions, without look-ahead: returning undefined lets esbuild resolve @facet/* itself)
          b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@facet/') ? undefined : { path: a.path, external: true }));
        },
      },
    ],
  });
  renameSync(tmp, outfile);
  for (const f of readdirSync(outDir)) {
    if (f.startsWith('replica-worker.') && join(outDir, f) !== outfile && Date.now() - statSync(join(outDir, f)).mtimeMs > 3600_000) {
      try {
        unlinkSync(join(outDir, f));
      } catch {
        // another process removed it
      }
    }
  }
  return pathToFileURL(outfile);
}

/** Hash of the paths, sizes and mtimes of every .ts in every lib's src/ (the bundle includes several libs). */
function sourceStamp(libsDir: string): string {
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
  for (const lib of readdirSync(libsDir, { withFileTypes: true })) {
    const src = join(libsDir, lib.name, 'src');
    if (lib.isDirectory() && existsSync(src)) walk(src);
  }
  return h.digest('hex').slice(0, 12);
}
