// `--align` on embed / eval / quality / train: a folder of raw photos is detected and aligned once (libs/align), into
// a sibling folder `<src>.aligned<size>`, and reused while the photos and the settings stay the same. The fingerprint
// covers every image's path, size and modification time and the alignment settings; any change re-aligns.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { alignFaces, type AlignFacesOptions, type AlignReport } from '@facet/align';
import { scanImageFolder } from '@facet/data';
import { facetCacheDir } from './cache.js';

const FINGERPRINT = '.facet-align-fingerprint';

export type AlignSettings = Pick<AlignFacesOptions, 'size' | 'multiple' | 'minFace' | 'minScore' | 'detector'>;

export interface AlignedFolder {
  /** The folder of crops to use in place of `src`. */
  dir: string;
  /** false: an earlier alignment with the same fingerprint was reused. */
  aligned: boolean;
  /** This run's report (undefined when reused; the folder's align.json has the original). */
  report?: AlignReport;
}

async function fingerprint(src: string, settings: AlignSettings): Promise<string> {
  const scan = await scanImageFolder(src);
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, settings }));
  for (const f of scan.files) {
    const st = statSync(f);
    h.update(`${relative(src, f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

function writableDir(dir: string): boolean {
  try {
    const probe = join(dir, `.facet-write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * The aligned version of the photo folder `src` (root/<identity>/<image>): `<src>.aligned<size>` beside it, or under
 * ~/.cache/facet/aligned when that is not writable. Aligns (atomically: a temporary folder renamed into place) only
 * when no alignment with the same fingerprint exists.
 */
export async function alignedFolder(src: string, settings: AlignSettings = {}, onProgress?: AlignFacesOptions['onProgress']): Promise<AlignedFolder> {
  const root = resolve(src);
  const size = settings.size ?? 112;
  const print = await fingerprint(root, settings);
  const beside = dirname(root);
  const dir = writableDir(beside)
    ? join(beside, `${basename(root)}.aligned${size}`)
    : join(facetCacheDir('aligned'), `${basename(root)}-${print}`);
  const printFile = join(dir, FINGERPRINT);
  if (existsSync(printFile) && readFileSync(printFile, 'utf8').trim() === print) return { dir, aligned: false };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(tmp), { recursive: true });
  const report = await alignFaces(root, tmp, { ...settings, ...(onProgress ? { onProgress } : {}) });
  writeFileSync(join(tmp, FINGERPRINT), `${print}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, aligned: true, report: { ...report, dst: dir } };
}
