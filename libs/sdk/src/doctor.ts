import { initEngine, probeThroughput, tf, type BackendChoice, type EngineInfo, type ProbeResult } from '@facet/engine';
import { cpus, totalmem } from 'node:os';

export interface DoctorReport {
  engine: EngineInfo;
  node: string;
  cpus: number;
  memoryGiB: number;
  probe: ProbeResult[];
}

/** What `facet doctor` prints: backend choice and why, kernels Facet registered, and a short GFLOP/s probe. */
export async function doctor(opts: { backend?: BackendChoice; probeMs?: number } = {}): Promise<DoctorReport> {
  const engine = await initEngine(opts.backend ? { backend: opts.backend } : {});
  const probe = opts.probeMs === 0 ? [] : probeThroughput(opts.probeMs ?? 2000);
  void tf;
  return { engine, node: process.version, cpus: cpus().length, memoryGiB: totalmem() / 2 ** 30, probe };
}
