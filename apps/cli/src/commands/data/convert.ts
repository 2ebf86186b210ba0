import { convertFolderToRec, type ConvertReport } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../../render/progress.js';
import { FacetCommand } from '../../base.js';

export default class DataConvert extends FacetCommand {
  static description =
    'Pack an image folder (root/<identity>/<image>) into an insightface RecordIO pair (out.rec + out.idx, + out.labels.json with the names)';
  static examples = ['<%= config.bin %> data convert faces/ train.rec', '<%= config.bin %> data convert faces/ train.rec --skip-bad --check decode'];
  static args = {
    source: Args.string({ description: 'image folder (or synthetic[:k=v,...])', required: true }),
    out: Args.string({ description: 'output .rec (the .idx is written next to it)', required: true }),
  };
  static flags = {
    size: Flags.integer({ description: 'image side; other sizes are resized (short side + centre crop)', default: 112, min: 8, max: 1024 }),
    strict: Flags.boolean({ description: 'reject images that are not size×size instead of resizing them', default: false }),
    'skip-bad': Flags.boolean({ description: 'skip unreadable images and empty identities (and list them) instead of failing', default: false }),
    check: Flags.string({ description: 'how images are checked before packing', options: ['header', 'decode'], default: 'header' }),
    reencode: Flags.string({ description: 'format of images that must be re-encoded (BMP, PGM, resized)', options: ['jpeg', 'png'], default: 'jpeg' }),
    quality: Flags.integer({ description: 'JPEG quality of re-encoded images', default: 95, min: 1, max: 100 }),
  };

  async run(): Promise<ConvertReport> {
    const { args, flags } = await this.parse(DataConvert);
    const bar = countProgress('convert');
    const report = await convertFolderToRec(args.source, args.out, {
      imageSize: flags.size,
      strict: flags.strict,
      skipBad: flags['skip-bad'],
      check: flags.check as 'header' | 'decode',
      reencode: flags.reencode as 'jpeg' | 'png',
      quality: flags.quality,
      onWarning: (m) => this.warn(m),
      onProgress: bar.update,
    });
    bar.stop();
    this.log(
      `wrote ${report.images} images of ${report.identities} identities to ${report.recPath} + ${report.idxPath} (${(report.bytes / 1e6).toFixed(1)} MB; ${report.copied} copied, ${report.reencoded} re-encoded) in ${report.seconds.toFixed(1)} s`,
    );
    this.log(`names: ${report.labelMapPath}`);
    return report;
  }
}
