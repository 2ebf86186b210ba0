// Files of an inversion: one PNG per target, a contact sheet (targets × snapshot steps, the target faces first when
// there are any) and a JSON report.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { tf } from '@facet/engine';
import type { InversionResult } from './invert.js';
import { contactSheet, encodePng, tensorToRgbImages } from './png.js';

export interface InversionOutputOptions {
  /** Real faces of image targets: shown as the sheet's first column. */
  targetImages?: tf.Tensor4D;
  /** Integer pixel upscale of every PNG (small faces). Default 1. */
  scale?: number;
  /** Extra fields for the JSON report (model paths, command line…). */
  extra?: Record<string, unknown>;
}

export interface InversionFiles {
  images: string[];
  contactSheet: string;
  report: string;
}

/** Write through a temporary name and rename, so a reader never sees half a file (house rule: atomic writes). */
function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Write `<outDir>/inverted-<i>.png`, `<outDir>/contact-sheet.png` and `<outDir>/report.json`. */
export function writeInversionOutputs(result: InversionResult, outDir: string, opts: InversionOutputOptions = {}): InversionFiles {
  const scale = opts.scale ?? 1;
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the output directory ${outDir}: ${(e as Error).message}; pass another --out.`);
  }
  const digits = String(Math.max(0, result.report.length - 1)).length;
  const images = tensorToRgbImages(result.images).map((img, i) => {
    const name = `inverted-${String(i).padStart(digits, '0')}.png`;
    writeAtomic(join(outDir, name), encodePng(img, scale));
    return name;
  });
  const columns = [...(opts.targetImages ? [opts.targetImages] : []), ...result.snapshots.map((s) => s.images)];
  const sheetName = 'contact-sheet.png';
  writeAtomic(join(outDir, sheetName), encodePng(contactSheet(columns), scale));
  const report = {
    summary: result.summary,
    options: result.options,
    contactSheet: {
      file: sheetName,
      rows: result.report.map((r) => r.target),
      columns: [...(opts.targetImages ? ['target'] : []), ...result.snapshots.map((s) => `step ${s.step}`)],
    },
    images: result.report.map((r, i) => ({ file: images[i], ...r })),
    ...opts.extra,
  };
  writeAtomic(join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  return { images: images.map((f) => join(outDir, f)), contactSheet: join(outDir, sheetName), report: join(outDir, 'report.json') };
}
