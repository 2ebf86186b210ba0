import { initEngine, nativeEngineInfo, nativeStatus, probeThroughput, tf, type BackendChoice, type EngineInfo, type ProbeResult } from '@facet/engine';
import { cpus, totalmem } from 'node:os';

/** The native (oneDNN) engine as doctor sees it, whichever backend was chosen. */
export interface NativeDoctor {
  available: boolean;
  /** One line: oneDNN version, ISA and threads, or why the addon is unavailable and how to enable it. */
  summary: string;
  /** The instruction set oneDNN dispatches to (dnnl_get_effective_cpu_isa), e.g. avx512_core. */
  isa?: string;
  /** Implementations oneDNN picked for the primitives run so far (the probe's), e.g. conv_fwd: brgconv:avx512_core. */
  impls?: Record<string, string[]>;
  /** On the native backend: kernels running natively, and those running on tfjs's cpu (JavaScript) kernels. */
  nativeKernels?: string[];
  fallbackKernels?: string[];
}

export interface DoctorReport {
  engine: EngineInfo;
  node: string;
  cpus: number;
  memoryGiB: number;
  probe: ProbeResult[];
  native: NativeDoctor;
  /** Extra human-readable lines (the native engine's kernels and ISA) for `facet doctor` to print. */
  notes: string[];
}

function nativeDoctor(): NativeDoctor {
  const s = nativeStatus();
  if (!s.loaded) return { available: false, summary: s.reason };
  const { info } = s;
  const reg = nativeEngineInfo();
  return {
    available: true,
    summary: `oneDNN ${info.version}, ISA ${info.isa}, ${info.threads} thread(s)${reg ? `: ${reg.threadsWhy}` : ''}`,
    isa: info.isa,
    impls: info.impls,
    ...(reg ? { nativeKernels: reg.nativeKernels, fallbackKernels: reg.fallbackKernels } : {}),
  };
}

function notesFor(engine: EngineInfo, native: NativeDoctor): string[] {
  const notes = [`native       ${native.summary}`];
  if (engine.backend !== 'native') return notes;
  const impls = Object.entries(native.impls ?? {}).map(([k, v]) => `${k} ${v.join('/')}`);
  if (impls.length) notes.push(`  oneDNN implementations: ${impls.join(', ')}`);
  notes.push(`  native kernels (${native.nativeKernels?.length ?? 0}): ${(native.nativeKernels ?? []).join(', ')}`);
  notes.push(`  fallback kernels on tfjs's cpu JS (${native.fallbackKernels?.length ?? 0}): ${(native.fallbackKernels ?? []).join(', ')}`);
  return notes;
}

/** What `facet doctor` prints: backend choice and why, kernels Facet registered, the native engine, a GFLOP/s probe. */
export async function doctor(opts: { backend?: BackendChoice; probeMs?: number } = {}): Promise<DoctorReport> {
  const engine = await initEngine(opts.backend ? { backend: opts.backend } : {});
  const probe = opts.probeMs === 0 ? [] : probeThroughput(opts.probeMs ?? 2000);
  void tf;
  const native = nativeDoctor();
  return { engine, node: process.version, cpus: cpus().length, memoryGiB: totalmem() / 2 ** 30, probe, native, notes: notesFor(engine, native) };
}
