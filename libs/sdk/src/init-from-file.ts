// `facet train --init <file>`: a model file (insightface .pth/.pt, safetensors, ONNX) is imported once into a Facet
// model folder in the user's cache, keyed by the file's content, and the run starts from that folder. The training
// lib only reads model folders (it sits below @facet/interop, which reads runs), so the conversion happens here.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { saveBackbone } from '@facet/backbones';
import { importModel, type ImportReport } from '@facet/interop';
import { contentHash, facetCacheDir } from './cache.js';

/** Where imported init models are kept: $XDG_CACHE_HOME/facet/imports (default ~/.cache/facet/imports). */
export function importCacheDir(): string {
  return facetCacheDir('imports');
}

/**
 * The model folder for `--init path`: a folder as it is; a model file imported into the cache (once per content).
 * `onReport` receives what the import detected (architecture and why).
 */
export async function initModelFolder(path: string, opts: { onReport?: (r: ImportReport) => void } = {}): Promise<string> {
  if (!existsSync(path)) throw new Error(`--init ${path}: no such file or folder`);
  if (statSync(path).isDirectory()) return path;
  const dir = join(importCacheDir(), await contentHash(path));
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const backbone = await importModel(resolve(path), opts.onReport ? { onReport: opts.onReport } : {});
  try {
    await saveBackbone(backbone, dir, { importedFrom: resolve(path) });
  } finally {
    backbone.dispose();
  }
  return dir;
}
