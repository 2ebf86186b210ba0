// Backbone checkpoints: a directory holding manifest.json (architecture, resolved options, normalisation,
// Facet version, tensor index) and weights.bin (little-endian float32). Written to a temporary sibling
// directory, fsynced, then renamed into place, so a crash never leaves a half-written checkpoint under `dir`.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createBackbone } from './backbone.js';
import type { Backbone, ResolvedBackboneOptions } from './types.js';
import { FACET_VERSION } from './version.js';
import { deserializeWeights, serializeWeights, type TensorIndex } from './weights-io.js';

export const BACKBONE_CHECKPOINT_FORMAT = 'facet-backbone';
export const BACKBONE_CHECKPOINT_VERSION = 1;

/** How the backbone expects its input: insightface's Normalize(0.5, 0.5) on RGB, NHWC here. */
export const BACKBONE_NORMALIZATION = { mean: 127.5, std: 127.5, layout: 'NHWC', channels: 'RGB' } as const;

export interface BackboneManifest {
  format: typeof BACKBONE_CHECKPOINT_FORMAT;
  formatVersion: number;
  architecture: string;
  options: ResolvedBackboneOptions;
  embeddingSize: number;
  inputSize: number;
  normalization: typeof BACKBONE_NORMALIZATION;
  facetVersion: string;
  parameters: number;
  /** Tensor index into weights.bin. Names follow PyTorch's state_dict; layouts are tfjs's (conv HWIO, linear [in,out]). */
  tensors: TensorIndex;
  weightsBytes: number;
  createdAt: string;
  extra?: Record<string, unknown>;
}

const MANIFEST = 'manifest.json';
const WEIGHTS = 'weights.bin';

async function writeFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  try {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some file systems refuse fsync on directories; the file contents are already synced
  }
}

/** Save weights (incl. BN running stats) and a manifest; `extra` is stored verbatim in the manifest. */
export async function saveBackbone(backbone: Backbone, dir: string, extra?: Record<string, unknown>): Promise<void> {
  const target = resolve(dir);
  if (existsSync(target)) {
    const st = await stat(target);
    if (!st.isDirectory()) throw new Error(`saveBackbone: ${dir} exists and is not a directory`);
    const entries = await readdir(target);
    if (entries.length > 0 && !entries.includes(MANIFEST)) {
      throw new Error(`saveBackbone: ${dir} is a non-empty directory that is not a Facet checkpoint; choose another directory`);
    }
  }
  const { index, data } = serializeWeights(backbone.getWeights());
  const manifest: BackboneManifest = {
    format: BACKBONE_CHECKPOINT_FORMAT,
    formatVersion: BACKBONE_CHECKPOINT_VERSION,
    architecture: backbone.name,
    options: backbone.options,
    embeddingSize: backbone.embeddingSize,
    inputSize: backbone.inputSize,
    normalization: BACKBONE_NORMALIZATION,
    facetVersion: FACET_VERSION,
    parameters: backbone.parameterCount(),
    tensors: index,
    weightsBytes: data.byteLength,
    createdAt: new Date().toISOString(),
    ...(extra ? { extra } : {}),
  };
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${tag}`);
  const old = join(parent, `.${basename(target)}.old-${tag}`);
  await mkdir(tmp);
  try {
    await writeFileSynced(join(tmp, WEIGHTS), data);
    await writeFileSynced(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
    await syncDir(tmp);
    // a directory cannot be renamed over a non-empty one: move the previous checkpoint aside first
    const hadOld = existsSync(target);
    if (hadOld) await rename(target, old);
    await rename(tmp, target);
    await syncDir(parent);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Read and validate a checkpoint's manifest. */
export async function readBackboneManifest(dir: string): Promise<BackboneManifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT' ? `${dir} is not a backbone checkpoint: ${MANIFEST} not found (save one with saveBackbone)` : `cannot read ${path}: ${(e as Error).message}`,
    );
  }
  let m: BackboneManifest;
  try {
    m = JSON.parse(text) as BackboneManifest;
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); the checkpoint is damaged`);
  }
  if (m?.format !== BACKBONE_CHECKPOINT_FORMAT) throw new Error(`${path}: format is ${JSON.stringify(m?.format)}, not a Facet backbone checkpoint`);
  if (m.formatVersion !== BACKBONE_CHECKPOINT_VERSION) {
    throw new Error(`${path}: format version ${m.formatVersion} is not supported by Facet ${FACET_VERSION} (supports ${BACKBONE_CHECKPOINT_VERSION})`);
  }
  if (typeof m.architecture !== 'string' || !m.tensors || typeof m.tensors !== 'object') throw new Error(`${path}: architecture or tensor index missing`);
  return m;
}

async function readWeights(dir: string, m: BackboneManifest): Promise<Record<string, Float32Array>> {
  const path = join(dir, WEIGHTS);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (typeof m.weightsBytes === 'number' && buf.byteLength !== m.weightsBytes) {
    throw new Error(`${path} has ${buf.byteLength} bytes but its manifest says ${m.weightsBytes}: the checkpoint is truncated or damaged`);
  }
  return deserializeWeights(m.tensors, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/** Rebuild the saved architecture with its saved options and load its weights. */
export async function loadBackbone(dir: string, expect?: { name?: string }): Promise<Backbone> {
  const m = await readBackboneManifest(dir);
  if (expect?.name !== undefined && expect.name !== m.architecture) {
    throw new Error(`checkpoint ${dir} holds a '${m.architecture}' backbone but '${expect.name}' was expected`);
  }
  const weights = await readWeights(dir, m);
  const backbone = createBackbone(m.architecture, m.options);
  try {
    backbone.setWeights(weights);
  } catch (e) {
    backbone.dispose();
    throw new Error(`checkpoint ${dir} (${m.architecture}): ${(e as Error).message}`);
  }
  return backbone;
}

/** Load a checkpoint into an existing backbone; architecture and options must match exactly. */
export async function loadBackboneWeights(backbone: Backbone, dir: string): Promise<void> {
  const m = await readBackboneManifest(dir);
  if (m.architecture !== backbone.name) {
    throw new Error(`checkpoint ${dir} holds a '${m.architecture}' backbone and cannot be loaded into a '${backbone.name}' backbone`);
  }
  const differing = (Object.keys({ ...m.options, ...backbone.options }) as Array<keyof ResolvedBackboneOptions>).filter(
    (k) => k !== 'seed' && k !== 'dropout' && k !== 'dropPath' && k !== 'maskRatio' && JSON.stringify(m.options[k]) !== JSON.stringify(backbone.options[k]),
  );
  if (differing.length) {
    const show = (o: ResolvedBackboneOptions) => differing.map((k) => `${k}=${JSON.stringify(o[k])}`).join(', ');
    throw new Error(
      `checkpoint ${dir} holds a '${m.architecture}' with ${show(m.options)} but the backbone has ${show(backbone.options)}`,
    );
  }
  backbone.setWeights(await readWeights(dir, m));
}
