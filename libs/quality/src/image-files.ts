// Image inputs for quality scoring: every image file under a folder (loose or in identity sub-folders), and
// degraded images of a training set for the UI centre.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { decodeImage, fitToSquare, IMAGE_EXTENSIONS, makeRng, mixSeed, openDataset } from '@facet/data';
import { unrecognizableImages, type UnrecognizableOptions } from './unrecognizable-images.js';

/** Image files under `folder` (recursive, sorted), decoded to size×size RGB (short side scaled, centre crop). */
export async function readImageFolder(folder: string, size: number): Promise<{ paths: string[]; images: Uint8Array[] }> {
  let st;
  try {
    st = statSync(folder);
  } catch {
    throw new Error(`${folder}: no such folder; pass a folder of face images.`);
  }
  if (!st.isDirectory()) throw new Error(`${folder} is not a folder; pass a folder of face images (loose or in identity sub-folders).`);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) files.push(p);
    }
  };
  walk(folder);
  if (files.length === 0) throw new Error(`${folder}: no images (${IMAGE_EXTENSIONS.join(', ')}) found.`);
  const images: Uint8Array[] = [];
  for (const f of files) images.push(fitToSquare(await decodeImage(new Uint8Array(readFileSync(f)), f), size));
  return { paths: files.map((f) => relative(folder, f)), images };
}

/**
 * `count` unrecognizable images made by degrading images of a training set (`openDataset` source: folder, .rec or
 * 'synthetic:…'), picked evenly over the set with a seeded offset.
 */
export async function degradedDatasetImages(
  source: string,
  size: number,
  opts: UnrecognizableOptions & { count?: number; seed?: number } = {},
): Promise<Uint8Array[]> {
  const ds = await openDataset(source, { imageSize: size });
  const count = opts.count ?? 256;
  if (!Number.isInteger(count) || count < 1) throw new Error(`degradedDatasetImages: count must be an integer ≥ 1 (got ${count}).`);
  const rng = makeRng(mixSeed(opts.seed ?? 0, 0x5eed));
  const picks = Math.min(count, ds.size);
  const start = rng.int(ds.size);
  const src: Uint8Array[] = [];
  for (let i = 0; i < picks; i++) src.push(await ds.read((start + Math.floor((i * ds.size) / picks)) % ds.size));
  return unrecognizableImages(src, size, { ...opts, count });
}
