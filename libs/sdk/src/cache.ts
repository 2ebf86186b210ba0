// Facet's per-user cache (imported init models, ONNX exports run by ONNX Runtime, aligned photo folders that cannot
// sit beside their source): one root, $XDG_CACHE_HOME/facet (default ~/.cache/facet), entries named by content.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_CACHE_HOME/facet/<kind> (default ~/.cache/facet/<kind>). */
export function facetCacheDir(kind: string): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'facet', kind);
}

/** First 16 hex digits of the SHA-256 of the files' bytes in order, read as streams (model files are large). */
export async function contentHash(...files: string[]): Promise<string> {
  const h = createHash('sha256');
  for (const file of files) for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex').slice(0, 16);
}
