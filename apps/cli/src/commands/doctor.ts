import { doctor, type BackendChoice, type DoctorReport } from '@facet/sdk';
import { Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export default class Doctor extends FacetCommand {
  static description = 'Show the tfjs backend Facet selected (and why), the kernels it registered, the native engine (oneDNN ISA, native vs fallback kernels, or how to enable it), and a GFLOP/s probe';
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json', 'FACET_BACKEND=cpu <%= config.bin %> doctor'];
  static flags = {
    'probe-ms': Flags.integer({ description: 'milliseconds of matmul + conv probing (0 skips it)', default: 2000, min: 0 }),
  };

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor);
    const report = await doctor({ backend: flags.backend as BackendChoice, probeMs: flags['probe-ms'] });
    const e = report.engine;
    this.log(`backend      ${e.backend} (requested ${e.requested}), tfjs ${e.tfjsVersion}, node ${report.node}`);
    for (const a of e.attempts) this.log(`  ${a.ok ? '✓' : '✗'} ${a.candidate}: ${a.reason}`);
    if (e.wasm) this.log(`wasm         SIMD ${e.wasm.simd ? 'on' : 'off'}, threads ${e.wasm.threads ? 'on' : 'off'}`);
    this.log(`machine      ${report.cpus} CPUs, ${report.memoryGiB.toFixed(1)} GiB`);
    this.log(`kernels      ${e.registeredKernels.length ? e.registeredKernels.join(', ') : '(none needed)'}`);
    for (const line of report.notes) this.log(line);
    for (const p of report.probe) {
      this.log(`probe        ${p.name.padEnd(7)} ${p.shape.padEnd(30)} ${p.gflops.toFixed(2)} GFLOP/s (${p.runs} runs)`);
    }
    return report;
  }
}
