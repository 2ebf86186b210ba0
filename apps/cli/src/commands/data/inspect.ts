import { formatDatasetReport, inspectDataset, type DatasetReport } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../../render/progress.js';
import { FacetCommand } from '../../base.js';

export default class DataInspect extends FacetCommand {
  static description = 'Counts, images per identity (histogram, long tail), sizes, formats and unreadable files of a dataset';
  static examples = [
    '<%= config.bin %> data inspect faces/',
    '<%= config.bin %> data inspect faces_emore/train.rec --quick --json',
    '<%= config.bin %> data inspect synthetic:identities=50,images=10',
  ];
  static args = { path: Args.string({ description: 'image folder (root/<identity>/<image>), .rec file, or synthetic[:k=v,...]', required: true }) };
  static flags = {
    quick: Flags.boolean({ description: 'read headers only (fast; does not find truncated images)', default: false }),
    sample: Flags.integer({ description: 'examine only this many images for sizes/unreadable (counts cover all) (default: all images)', min: 1 }),
  };

  async run(): Promise<DatasetReport> {
    const { args, flags } = await this.parse(DataInspect);
    const bar = countProgress('inspect');
    const report = await inspectDataset(args.path, { decode: !flags.quick, sample: flags.sample, onProgress: bar.update });
    bar.stop();
    this.log(formatDatasetReport(report));
    return report;
  }
}
