// `facet train --init <file>`: a model file (insightface .pth/.pt, safetensors, ONNX) is imported once into a Facet
// model folder in the user's cache, keyed by the file's content, and the run starts from that folder. The training
// lib only reads model folders (it sits below @facet/interop, which reads runs), so the conversion happens here.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { saveBackbone } from '@facet/backbones';
import { importModel, type ImportReport } from '@facet/interop';

/** Where imported init models are kept: $XDG_CACHE_HOME/facet/imports (default ~/.cache/facet/imports). */
export function importCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'facet', 'imports');
}

async function contentHash(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex').slice(0, 16);
}

/**
 * The model folder for `--init path`: a folder as it is; a model file imported into the cache (once per content).
 * `onReport` receives what the import detected (architecture and why).
 */
export async function initModelFolder(path: string, opts: { onReport?: (r: ImportReport) => void } = {}): Promise<string> {
  if (!existsSync(path)) throw new Error(`--init ${path}: no such file or folder`);
  if (statSync(path).isDirectory()) return path;
  const dir = join(importCacheDir(), `${await contentHash(path)}`);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const backbone = await importModel(resolve(path), opts.onReport ? { onReport: opts.onReport } : {});
  try {
    await saveBackbone(backbone, dir, { importedFrom: resolve(path) });
  } finally {
    backbone.dispose();
  }
  return dir;
}
