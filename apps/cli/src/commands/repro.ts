import { parseExperimentList, runRepro, type ReproSummary } from '@facet/sdk';
import { Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export default class Repro extends FacetCommand {
  static description =
    "Reproduce the papers' claims at CPU scale (margins, sub-center noise, Partial FC, contrastive theory, inversion, recognizability) and write REPORT.md";
  static examples = ['<%= config.bin %> repro --quick', '<%= config.bin %> repro --only margins,partial-fc --seeds 3', '<%= config.bin %> repro --data faces/ --out docs/repro-faces'];
  static flags = {
    quick: Flags.boolean({ description: 'toy sizes: every experiment in minutes (a smoke check, not evidence)' }),
    only: Flags.string({ description: 'comma-separated experiments: margins, subcenter, partial-fc, contrastive, inversion, recognizability' }),
    seeds: Flags.integer({ description: 'seeds per setting (default 1 with --quick, else 3)', min: 1 }),
    data: Flags.string({ description: 'image folder or .rec to use instead of the synthetic faces (25 % of identities are held out)' }),
    out: Flags.string({ description: 'report folder', default: 'docs/repro' }),
    'work-dir': Flags.string({ description: 'where training runs go (default runs/repro or runs/repro-quick)' }),
    restart: Flags.boolean({ description: 'retrain runs that already finished instead of resuming' }),
  };

  async run(): Promise<ReproSummary> {
    const { flags } = await this.parse(Repro);
    const only = flags.only ? parseExperimentList(flags.only) : undefined;
    const json = this.jsonEnabled();
    const summary = await runRepro({
      quick: flags.quick,
      only,
      seeds: flags.seeds,
      data: flags.data,
      out: flags.out,
      workDir: flags['work-dir'],
      resume: !flags.restart,
      onLog: (line) => {
        if (!json) process.stderr.write(`${line}\n`);
      },
    });
    if (!json) {
      for (const r of summary.results) this.log(`${r.name.padEnd(16)} ${r.status.padEnd(8)} ${r.seconds.toFixed(0).padStart(5)} s  ${r.findings[0] ?? ''}`);
      this.log(`report  ${summary.report}  (${summary.seconds.toFixed(0)} s)`);
    }
    return summary;
  }
}
