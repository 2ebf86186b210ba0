import { alignFaces, initEngine, type AlignReport, type BackendChoice } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { progressBar } from '../../render/progress.js';
import { FacetCommand } from '../../base.js';

export default class DataAlign extends FacetCommand {
  static description =
    "Detect faces in a photo folder (root/<identity>/<image>) and write insightface-style aligned crops (five landmarks → ArcFace template, 112×112) with the same layout, an align.json listing every image and a contact sheet";
  static examples = [
    '<%= config.bin %> data align photos/ aligned/',
    '<%= config.bin %> data align photos/ aligned/ --multiple skip --min-face 40',
    '<%= config.bin %> data align photos/ aligned/ --detector tiny --size 224 --json',
  ];
  static args = {
    source: Args.string({ description: 'photo folder, root/<identity>/<image> (linked identity folders are followed)', required: true }),
    out: Args.string({ description: 'output folder: <identity>/<image>.png crops, align.json, contact-sheet.png', required: true }),
  };
  static flags = {
    multiple: Flags.string({ description: 'images with several faces: crop the largest, crop all (<image>_1.png, …), or skip the image', options: ['largest', 'all', 'skip'], default: 'largest' }),
    'min-face': Flags.integer({ description: 'ignore faces whose box is smaller than this many pixels (shorter side, in the photo); default 0 keeps every face, as insightface does', default: 0, min: 0 }),
    'min-score': Flags.string({ description: 'lowest detector score kept, 0–1 (insightface RetinaFace det_thresh)', default: '0.5' }),
    size: Flags.integer({ description: 'crop side in pixels; the ArcFace template is scaled to it as insightface does', default: 112, min: 8, max: 1024 }),
    detector: Flags.string({ description: 'face detector: ssd (SSD-MobileNetV1, more accurate) or tiny (TinyFaceDetector, faster)', options: ['ssd', 'tiny'], default: 'ssd' }),
    'max-side': Flags.integer({ description: 'detection runs on the photo scaled down to this longer side (px); crops use the full photo', default: 1280, min: 64 }),
    'max-pixels': Flags.integer({ description: 'photos larger than this many megapixels are listed as unreadable instead of decoded', default: 100, min: 1 }),
    'sheet-samples': Flags.integer({ description: 'crops on contact-sheet.png (0: no sheet)', default: 48, min: 0 }),
  };

  async run(): Promise<AlignReport> {
    const { args, flags } = await this.parse(DataAlign);
    await initEngine({ backend: flags.backend as BackendChoice });
    const minScore = Number(flags['min-score']);
    if (!(minScore >= 0 && minScore <= 1)) this.error(`--min-score ${flags['min-score']}: must be a number between 0 and 1`);
    const bar = progressBar('align', 'images {rate} images/s');
    let started = false;
    const report = await alignFaces(args.source, args.out, {
      multiple: flags.multiple as 'largest' | 'all' | 'skip',
      minFace: flags['min-face'],
      minScore,
      size: flags.size,
      detector: flags.detector as 'ssd' | 'tiny',
      maxSide: flags['max-side'],
      maxPixels: flags['max-pixels'] * 1e6,
      sheetSamples: flags['sheet-samples'],
      onProgress: (p) => {
        if (!bar) return;
        if (!started) bar.start(p.total, 0, { rate: '?' });
        started = true;
        bar.update(p.done, { rate: p.imagesPerSecond.toFixed(2) });
      },
    });
    if (started) bar?.stop();
    this.log(
      `aligned ${report.aligned} of ${report.images} images (${(100 * report.detectionRate).toFixed(1)}%) of ${report.identities} identities: ${report.crops} crops of ${flags.size}×${flags.size} in ${report.dst}, ${report.imagesPerSecond.toFixed(2)} images/s (${report.detector})`,
    );
    const problems = [
      ...report.noFace.map((f) => [f, 'no face', `none at --min-score ${minScore}`]),
      ...report.severalFaces.map((f) => [f, 'several faces', '--multiple skip']),
      ...report.tooSmall.map((f) => [f, 'faces too small', `--min-face ${flags['min-face']}`]),
      ...report.unreadable.map((u) => [u.file, 'unreadable', u.reason]),
    ];
    if (problems.length > 0) {
      this.log(`${problems.length} image(s) gave no crop (all listed in align.json):`);
      const shown = problems.slice(0, 20);
      this.table(['image', 'why', 'detail'], shown, { align: ['left', 'left', 'left'] });
      if (problems.length > shown.length) this.log(`… and ${problems.length - shown.length} more in ${report.manifestPath}`);
    }
    this.log(`manifest: ${report.manifestPath}${report.contactSheetPath ? `; contact sheet: ${report.contactSheetPath}` : ''}`);
    return report;
  }
}
