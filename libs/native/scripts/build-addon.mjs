#!/usr/bin/env node
// Builds the oneDNN addon (build/Release/facet_native.node) with node-gyp when oneDNN's headers and a C++
// compiler are present; otherwise prints one line saying why and how to enable it, and exits 0: Facet then
// runs on wasm, so a machine without oneDNN must never fail the build.
// Usage: node scripts/build-addon.mjs [--force]   (skips when the addon is newer than its sources)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const output = join(root, 'build', 'Release', 'facet_native.node');
const enable = 'apt-get install libdnnl-dev g++ make, then `npm run build -w @facet/native`';

function skip(why) {
  console.log(`@facet/native: addon not built (${why}); Facet uses wasm. To enable: ${enable}.`);
  process.exit(0);
}

function newestSource() {
  const files = [join(root, 'binding.gyp'), ...readdirSync(join(root, 'addon')).map((f) => join(root, 'addon', f))];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

if (process.env.FACET_NATIVE_SKIP === '1') skip('FACET_NATIVE_SKIP=1');
if (!process.argv.includes('--force') && existsSync(output) && statSync(output).mtimeMs > newestSource()) process.exit(0);
if (!existsSync('/usr/include/dnnl.hpp') && !existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) skip('oneDNN headers not found');
for (const tool of ['g++', 'make']) {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) skip(`${tool} not found`);
}

// npm ships node-gyp; prefer the copy next to this node, then one resolvable from the repo.
const prefix = dirname(dirname(process.execPath));
const gypCandidates = [
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(root, '..', '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
];
const gyp = gypCandidates.find((f) => existsSync(f));
if (!gyp) skip('node-gyp not found (it ships with npm)');
// Node's own headers (distro packages and nodejs.org tarballs both install include/node): no download needed.
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const result = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: root, encoding: 'utf8' });
if (result.status !== 0) {
  const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => /error/i.test(l) && !/^gyp (info|ERR! (stack|System|command|cwd|node|not ok))/.test(l));
  console.log(`@facet/native: addon build failed: ${lines.slice(0, 3).join(' | ') || 'node-gyp exited ' + result.status}`);
  console.log(`@facet/native: Facet uses wasm. Rebuild with \`node libs/native/scripts/build-addon.mjs --force\` for the full log.`);
  if (process.argv.includes('--force')) console.log(result.stdout, result.stderr);
  process.exit(0);
}
console.log(`@facet/native: built ${output}`);
