import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tf } from './tf.js';
import { registerWasmTrainingKernels } from './kernels/register.js';
import { nativeEngineInfo, tryNativeCpu, type NativeEngineInfo } from './native.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'native' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'];

export interface BackendAttempt {
  candidate: string;
  ok: boolean;
  reason: string;
}

export interface EngineInfo {
  /** The tfjs backend in use: 'tensorflow' | 'native' | 'wasm' | 'cpu'. */
  backend: string;
  /** What was asked for (option or FACET_BACKEND). */
  requested: BackendChoice;
  /** Every candidate tried, in order, and why it was or was not taken. */
  attempts: BackendAttempt[];
  tfjsVersion: string;
  /** Kernels Facet registered (or replaced) on the chosen backend. */
  registeredKernels: string[];
  wasm?: { simd: boolean; threads: boolean };
  /** On 'native': oneDNN's version and ISA, and which kernels run natively vs on tfjs's cpu (JS) kernels. */
  native?: NativeEngineInfo;
}

export interface InitEngineOptions {
  /** Default: `FACET_BACKEND` or 'auto'. */
  backend?: BackendChoice;
}

const require = createRequire(import.meta.url);
let current: EngineInfo | undefined;
let pending: Promise<EngineInfo> | undefined;

/** The engine chosen by the last `initEngine`, or undefined before it. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}

function parseChoice(value: string | undefined, source: string): BackendChoice {
  const v = (value ?? 'auto').trim().toLowerCase();
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`${source}="${value}" is not a backend; use one of ${BACKEND_CHOICES.join(', ')}.`);
}

/**
 * A native tfjs-node package is usable only when its install script managed to download libtensorflow and
 * build the binding. Checking the binding file first matters: requiring a broken package still registers its
 * kernels, and a second copy would then print hundreds of "already registered" lines.
 */
function nativeBindingStatus(pkg: string): { ok: boolean; reason: string } {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch {
    return { ok: false, reason: 'not installed (optional dependency; its install needs internet to fetch libtensorflow)' };
  }
  const libDir = join(dirname(pkgJson), 'lib');
  const napi = existsSync(libDir) ? readdirSync(libDir).filter((d) => d.startsWith('napi-v')) : [];
  const binding = napi.map((d) => join(libDir, d, 'tfjs_binding.node')).find((f) => existsSync(f));
  if (!binding) return { ok: false, reason: 'installed without its native binding (libtensorflow download failed)' };
  return { ok: true, reason: `binding ${binding}` };
}

async function tryTensorflow(attempts: BackendAttempt[]): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const status = nativeBindingStatus(pkg);
    if (!status.ok) {
      attempts.push({ candidate: pkg, ok: false, reason: status.reason });
      continue;
    }
    try {
      require(pkg);
      if (await tf.setBackend('tensorflow')) {
        attempts.push({ candidate: pkg, ok: true, reason: status.reason });
        return true;
      }
      attempts.push({ candidate: pkg, ok: false, reason: "loaded but backend 'tensorflow' failed to initialize" });
    } catch (e) {
      attempts.push({ candidate: pkg, ok: false, reason: `failed to load: ${(e as Error).message.split('\n')[0]}` });
    }
    // Never load a second native package: both register the same kernels.
    return false;
  }
  return false;
}

async function tryNative(attempts: BackendAttempt[]): Promise<boolean> {
  try {
    const r = await tryNativeCpu();
    attempts.push({ candidate: 'native', ok: r.ok, reason: r.reason });
    return r.ok;
  } catch (e) {
    attempts.push({ candidate: 'native', ok: false, reason: (e as Error).message.split('\n')[0] ?? 'unknown error' });
    return false;
  }
}

async function tryWasm(attempts: BackendAttempt[]): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (await tf.setBackend('wasm')) {
      attempts.push({ candidate: 'wasm', ok: true, reason: '@tensorflow/tfjs-backend-wasm (XNNPACK)' });
      return true;
    }
    attempts.push({ candidate: 'wasm', ok: false, reason: 'backend failed to initialize' });
  } catch (e) {
    attempts.push({ candidate: 'wasm', ok: false, reason: (e as Error).message.split('\n')[0] ?? 'unknown error' });
  }
  return false;
}

async function useCpu(attempts: BackendAttempt[]): Promise<void> {
  tf.env().set('PROD', true); // hides the "install tfjs-node" banner; the choice is reported instead
  await tf.setBackend('cpu');
  attempts.push({ candidate: 'cpu', ok: true, reason: 'pure-JS reference backend (about 25x slower than wasm)' });
}

async function select(requested: BackendChoice): Promise<EngineInfo> {
  const attempts: BackendAttempt[] = [];
  let ok = false;
  if (requested === 'auto' || requested === 'tensorflow') ok = await tryTensorflow(attempts);
  if (!ok && requested === 'tensorflow') {
    throw new Error(
      `backend 'tensorflow' requested but unavailable: ${attempts.map((a) => `${a.candidate}: ${a.reason}`).join('; ')}. ` +
        `Install @tensorflow/tfjs-node (needs internet at install time) or use --backend wasm.`,
    );
  }
  if (!ok && (requested === 'auto' || requested === 'native')) ok = await tryNative(attempts);
  if (!ok && requested === 'native') {
    throw new Error(`backend 'native' requested but unavailable: ${attempts.at(-1)?.reason}. Or use --backend wasm.`);
  }
  if (!ok && (requested === 'auto' || requested === 'wasm')) ok = await tryWasm(attempts);
  if (!ok && requested === 'wasm') {
    throw new Error(`backend 'wasm' requested but unavailable: ${attempts.at(-1)?.reason}. Use --backend cpu.`);
  }
  if (!ok) await useCpu(attempts);
  // The cpu backend is also used as a reference next to wasm (tests, bench): never print tfjs's
  // "install tfjs-node" banner, the choice is reported in EngineInfo instead.
  tf.env().set('PROD', true);
  const backend = tf.getBackend();
  const registeredKernels =
    backend === 'wasm' ? registerWasmTrainingKernels() : backend === 'native' ? (nativeEngineInfo()?.nativeKernels ?? []).map((k) => `${k} (native)`) : [];
  const info: EngineInfo = { backend, requested, attempts, tfjsVersion: tf.version.tfjs, registeredKernels };
  if (backend === 'native') info.native = nativeEngineInfo();
  if (backend === 'wasm') {
    info.wasm = {
      simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
      threads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    };
  }
  return info;
}

/**
 * Select and initialise the tfjs backend. `auto` tries tfjs-node-gpu, tfjs-node, native (oneDNN), wasm, then cpu and records why
 * each was or was not taken. Safe to call repeatedly: a second call with the same choice returns the same info;
 * a different explicit choice switches backend.
 */
export async function initEngine(options: InitEngineOptions = {}): Promise<EngineInfo> {
  const requested = options.backend ?? parseChoice(process.env.FACET_BACKEND, 'FACET_BACKEND');
  parseChoice(requested, 'backend');
  if (pending) await pending.catch(() => undefined);
  if (current && (requested === 'auto' || requested === current.backend || requested === current.requested)) return current;
  pending = select(requested);
  current = await pending;
  return current;
}
