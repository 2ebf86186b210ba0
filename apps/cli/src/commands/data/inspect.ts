import { formatDatasetReport, inspectDataset, type DatasetReport } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import cliProgress from 'cli-progress';
import { FacetCommand } from '../../base.js';

/** A cli-progress bar on stderr when it is a terminal; a no-op otherwise (pipes, --json, CI). */
function progressBar(label: string): { update: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} images`, stream: process.stderr, hideCursor: true, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

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
    sample: Flags.integer({ description: 'examine only this many images for sizes/unreadable (counts cover all)', min: 1 }),
  };

  async run(): Promise<DatasetReport> {
    const { args, flags } = await this.parse(DataInspect);
    const bar = progressBar('inspect');
    const report = await inspectDataset(args.path, { decode: !flags.quick, sample: flags.sample, onProgress: bar.update });
    bar.stop();
    this.log(formatDatasetReport(report));
    return report;
  }
}
