#!/usr/bin/env node
// The set-up `npm start` and `npm test` run first, so that a bare clone needs no other command (README: two
// commands). Plain Node, no dependencies: it runs before node_modules exists.
//  1. Dependencies: `npm ci` when node_modules is missing or older than package-lock.json (a pull changed the lock).
//  2. The native engine's build needs: oneDNN from Debian (`libdnnl-dev`) and node-gyp's g++/make/python3, installed
//     when missing and this process may install packages (root with apt-get). Anywhere else it prints one line and
//     Facet runs on WebAssembly.
//     FACET_SKIP_APT=1 skips the install; the native addon itself is built by `npm run build` (libs/native).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stderr.write(`setup: ${line}\n`);

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : undefined;
}

function ensureDependencies() {
  const lock = mtime(join(root, 'package-lock.json'));
  const installed = mtime(join(root, 'node_modules', '.package-lock.json'));
  if (installed !== undefined && (lock === undefined || installed >= lock)) return;
  say(installed === undefined ? 'node_modules is missing: running npm ci' : 'package-lock.json is newer than node_modules: running npm ci');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const ONEDNN_HEADER = '/usr/include/dnnl.hpp';

function onPath(command) {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, command)));
}

/** Debian packages the native engine's build needs that this machine lacks: oneDNN, and node-gyp's toolchain. */
function missingPackages() {
  const missing = [];
  if (!existsSync(ONEDNN_HEADER)) missing.push('libdnnl-dev');
  if (!onPath('g++')) missing.push('g++');
  if (!onPath('make')) missing.push('make');
  if (!onPath('python3')) missing.push('python3');
  return missing;
}

function ensureNativeToolchain() {
  if (process.platform !== 'linux') return;
  const missing = missingPackages();
  if (!missing.length) return;
  const hint = `the native engine needs ${missing.join(', ')} (Debian/Ubuntu: apt-get install ${missing.join(' ')}); Facet runs on WebAssembly meanwhile`;
  if (process.env.FACET_SKIP_APT || typeof process.getuid !== 'function' || process.getuid() !== 0 || !existsSync('/usr/bin/apt-get')) {
    say(hint);
    return;
  }
  say(`installing ${missing.join(', ')} (for the native engine) with apt-get`);
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    install();
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
      install();
    } catch (e) {
      say(`apt-get install failed (${e.message.split('\n')[0]}); ${hint}`);
    }
  }
}

ensureDependencies();
ensureNativeToolchain();
