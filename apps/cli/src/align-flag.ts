import { alignedFolder, initEngine, type BackendChoice } from '@facet/sdk';
import { Flags } from '@oclif/core';
import { countProgress } from './render/progress.js';

/** `--align`, shared by the commands that read image folders (embed, eval, quality, train). */
export const alignFlag = Flags.boolean({
  description:
    'the folder holds raw photos: detect each face and align it to an ArcFace crop first (as facet data align; once, kept in <folder>.aligned<size> beside it and reused while nothing changes)',
});

/** The folder to read: `folder` itself, or its aligned copy at `size` px when --align is set. */
export async function alignIfAsked(folder: string, size: number, align: boolean, log: (line: string) => void, backend?: string): Promise<string> {
  if (!align) return folder;
  if (backend) await initEngine({ backend: backend as BackendChoice });
  const bar = countProgress(`align ${folder}`);
  const r = await alignedFolder(folder, { size }, (p) => bar.update(p.done, p.total));
  bar.stop();
  if (r.report) {
    const missed = r.report.images - r.report.aligned;
    log(`aligned ${folder}: ${r.report.aligned}/${r.report.images} images with a face (${(100 * r.report.detectionRate).toFixed(1)} %), ${r.report.imagesPerSecond.toFixed(2)} images/s → ${r.dir}${missed ? `; ${missed} without a crop are listed in ${r.report.manifestPath}` : ''}`);
  } else log(`--align: reusing ${r.dir} (same photos and settings)`);
  return r.dir;
}
