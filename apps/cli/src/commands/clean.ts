import { cleanRun, type CleanRunReport } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export default class Clean extends FacetCommand {
  static description = "Sub-center ArcFace cleaning: drop training samples more than 75° from their class's dominant sub-center and write the kept list";
  static examples = [
    '<%= config.bin %> train --sub-centers 3 --dataset faces/ --output runs/k3',
    '<%= config.bin %> clean runs/k3',
    '<%= config.bin %> train --dataset faces/ --keep-list runs/k3/clean/keep.txt --output runs/k3-clean',
  ];
  static args = { run: Args.string({ description: 'output directory of a finished facet train run', required: true }) };
  static flags = {
    degrees: Flags.string({ description: 'drop samples farther than this angle from the dominant sub-center', default: '75' }),
    out: Flags.string({ description: 'list file to write (default <run>/clean/keep.txt)' }),
  };

  async run(): Promise<CleanRunReport> {
    const { args, flags } = await this.parse(Clean);
    const degrees = Number(flags.degrees);
    if (!(degrees > 0 && degrees < 180)) this.error(`--degrees ${flags.degrees}: must be an angle in (0, 180)`, { exit: 2 });
    const r = await cleanRun(args.run, { thresholdDegrees: degrees, out: flags.out });
    if (!this.jsonEnabled()) {
      const worst = [...r.perClass].sort((a, b) => b.dropped - a.dropped).slice(0, 10);
      this.log(`kept ${r.kept} of ${r.images} images (${r.dropped} dropped at ${r.thresholdDegrees}°, K=${r.subCenters})`);
      for (const c of worst.filter((w) => w.dropped > 0)) this.log(`  class ${c.class}: dropped ${c.dropped}/${c.total}`);
      this.log(`list    ${r.list}`);
    }
    return r;
  }
}
