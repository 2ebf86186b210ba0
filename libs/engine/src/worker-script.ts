// Where a lib's worker-thread script is (the data loader's, the data-parallel trainer's replicas). Built: dist/<name>.js
// next to dist/index.js (a second tsup entry). From TypeScript source (vitest, dev scripts) Node cannot run the .ts,
// so the entry is bundled with esbuild (tsup's own dependency) into the package's node_modules/.cache, once per
// version of the sources and shared by concurrent processes; npm imports stay external and resolve from there.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface WorkerScriptOptions {
  /** `import.meta.url` of the module beside the worker entry (a .ts file from source, dist/index.js when built). */
  from: string;
  /** The entry's base name: `<name>.ts` beside `from` in source, `<name>.js` in the built dist/. */
  name: string;
  /** Where the owning package's built entry is (`() => import.meta.resolve('@facet/x')`), for code bundled elsewhere. */
  resolvePackage: () => string;
  /**
   * From source, bundle the other Facet libs from their sources too ('@facet/source' condition) instead of their
   * dist/: a training replica must run the same backbone code as the main thread, which may be newer than dist/.
   */
  bundleFacetSources?: boolean;
  /** What the user can do instead, ending the error messages ("use numWorkers: 0"). */
  fallback: string;
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The worker script's URL (bundling it first when running from source). */
export async function workerScriptUrl(o: WorkerScriptOptions): Promise<URL> {
  const here = fileURLToPath(o.from);
  const pkgRoot = packageRoot(dirname(here));
  if (!here.endsWith('.ts')) {
    const built = join(dirname(here), `${o.name}.js`);
    if (existsSync(built)) return pathToFileURL(built);
    try {
      const installed = join(dirname(fileURLToPath(o.resolvePackage())), `${o.name}.js`);
      if (existsSync(installed)) return pathToFileURL(installed);
    } catch {
      // not resolvable from here
    }
    throw new Error(`${built}: the worker script is missing from the build; rebuild the package (npm run build) or ${o.fallback}`);
  }
  const outDir = join(pkgRoot, 'node_modules', '.cache', `facet-${o.name}`);
  const stampDirs = o.bundleFacetSources ? siblingSources(dirname(pkgRoot)) : [join(pkgRoot, 'src')];
  const outfile = join(outDir, `${o.name}.${sourceStamp(stampDirs)}.mjs`);
  if (existsSync(outfile)) return pathToFileURL(outfile);
  let esbuild: { build(opts: Record<string, unknown>): Promise<unknown> };
  try {
    esbuild = (await import('esbuild' as string)) as typeof esbuild;
  } catch (e) {
    throw new Error(`running ${here} from source needs esbuild to bundle its worker (${reason(e)}); build the package or ${o.fallback}`);
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  await esbuild.build({
    entryPoints: [join(dirname(here), `${o.name}.ts`)],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    ...(o.bundleFacetSources ? { conditions: ['@facet/source'] } : {}),
    plugins: [
      {
        name: 'external-npm',
        setup(b: { onResolve(f: { filter: RegExp }, cb: (a: { path: string }) => unknown): void }) {
          // esbuild's filters are Go regular expressions (no look-ahead): returning undefined lets esbuild resolve
          // a bare @facet/* import itself, every other bare import stays external
          b.onResolve({ filter: /^[^./]/ }, (a) => (o.bundleFacetSources && a.path.startsWith('@facet/') ? undefined : { path: a.path, external: true }));
        },
      },
    ],
  });
  renameSync(tmp, outfile);
  dropStaleBundles(outDir, o.name, outfile);
  return pathToFileURL(outfile);
}

function packageRoot(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new Error(`${dir}: no package.json above it`);
  }
}

function siblingSources(libsDir: string): string[] {
  return readdirSync(libsDir, { withFileTypes: true })
    .map((e) => join(libsDir, e.name, 'src'))
    .filter((src) => existsSync(src));
}

/** Bundles of older source versions, left by earlier runs (an hour's grace for processes still using them). */
function dropStaleBundles(outDir: string, name: string, keep: string): void {
  for (const f of readdirSync(outDir)) {
    const p = join(outDir, f);
    if (f.startsWith(`${name}.`) && p !== keep && Date.now() - statSync(p).mtimeMs > 3600_000) {
      try {
        unlinkSync(p);
      } catch {
        // another process removed it
      }
    }
  }
}

/** Hash of the paths, sizes and mtimes of every .ts under `dirs`. */
function sourceStamp(dirs: string[]): string {
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
  for (const d of dirs) walk(d);
  return h.digest('hex').slice(0, 12);
}
