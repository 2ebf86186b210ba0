// Dev runner for the TypeScript scripts in this folder: bundles one with esbuild (Facet libs from source through the
// '@facet/source' condition, npm packages left external) into node_modules/.cache and runs it with Node.
//   node libs/data/scripts/run.mjs libs/data/scripts/raw-pixel-baseline.ts [args...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node libs/data/scripts/run.mjs <script.ts> [args...]');
  process.exit(2);
}
const outDir = join(here, '..', 'node_modules', '.cache', 'facet-data');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, `${basename(script, '.ts')}.${process.pid}.mjs`);
await build({
  entryPoints: [resolve(script)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@facet/source'],
  sourcemap: 'inline',
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-npm',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@facet/') || a.path.startsWith('node:') ? undefined : { path: a.path, external: true }));
      },
    },
  ],
});
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
rmSync(outfile, { force: true });
process.exit(r.status ?? 1);
