// importModel / exportModel: insightface model files ↔ Facet backbones. The file kind comes from its first bytes
// (zip → torch.save's zip layout, PROTO 2 + magic → legacy torch.save, 8-byte length + '{' → safetensors), with the
// extension only deciding ONNX (a protobuf has no magic), which goes to @facet/onnx.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { readArcfaceTorchDir } from './arcface-torch.js';
import { writeAtomic } from './atomic.js';
import { describeBackbone, type Backbone, type BackboneOptions } from '@facet/backbones';
import { backboneFromStateDict, stateDictFromBackbone } from './backbone-map.js';
import { detectArchitecture } from './detect.js';
import { isSafetensors, readSafetensors, writeSafetensors } from './safetensors.js';
import { extractStateDict, stripPrefix, type StateDictSource } from './state-dict.js';
import type { StateDict } from './tensor.js';
import { isLegacyTorch, isZip, readTorchFile } from './torch/pth-read.js';
import { writeTorchStateDict } from './torch/pth-write.js';

export type ModelFileFormat = 'pth-zip' | 'pth-legacy' | 'safetensors' | 'onnx' | 'arcface-torch';
export type ExportFormat = 'pth' | 'safetensors' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['pth', 'safetensors', 'onnx'];

export interface ImportModelOptions {
  /** Architecture: 'auto' (default) detects it from names and shapes; or a Facet / insightface name (r50, mbf…). */
  network?: string;
  /** Input side, when the weights allow several (IResNet/MobileFaceNet: any side giving the same final map). */
  inputSize?: number;
  /** ViT attention heads (not stored in the weights). Default 8, insightface's vit_t / vit_s. */
  heads?: number;
  /** Backbone seed (training randomness after import only; every weight comes from the file). Default 2048. */
  seed?: number;
  /** Told what was found: the format, where the weights were, the architecture and why. */
  onReport?: (report: ImportReport) => void;
}

export interface ImportReport {
  file: string;
  format: ModelFileFormat;
  network: string;
  options: BackboneOptions;
  /** Why this architecture and these options, one line each. */
  reasons: string[];
  /** Tensors in the file's state dict. */
  tensors: number;
  source: StateDictSource;
  /** safetensors __metadata__, if any. */
  metadata?: Record<string, string>;
  /** The BatchNorm step counter (num_batches_tracked, the largest over layers): Facet keeps no such buffer, so
   * callers that want it back on export store it (facet import records it in the model folder). */
  numBatchesTracked?: number;
}

export interface ExportModelOptions {
  format?: ExportFormat;
  /** num_batches_tracked written for every BatchNorm (.pth / .safetensors). Default 0. */
  numBatchesTracked?: number;
  /** safetensors __metadata__ (string → string). Facet adds facet_network and facet_input_size. */
  metadata?: Record<string, string>;
}

const IMPORT_KEYS = new Set(['network', 'inputSize', 'heads', 'seed', 'onReport']);
const EXPORT_KEYS = new Set(['format', 'numBatchesTracked', 'metadata']);

function checkKeys(opts: object | undefined, allowed: Set<string>, fn: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object') throw new Error(`${fn}: options must be an object`);
  for (const k of Object.keys(opts)) {
    if (!allowed.has(k)) throw new Error(`${fn}: unknown option ${k}; options are ${[...allowed].join(', ')}`);
  }
}

function positiveInt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer (got ${JSON.stringify(v)})`);
  return v;
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    const b = await readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file} is a folder without arcface_torch checkpoint_gpu_*.pt files, not a model file` : `${file}: ${(e as Error).message}`);
  }
}

/** The backbone state dict of a .pth/.pt (zip or legacy) or .safetensors file, PyTorch names and layouts. */
export async function readStateDictFile(file: string): Promise<{ stateDict: StateDict; format: ModelFileFormat; source: StateDictSource; metadata?: Record<string, string> }> {
  if ((await stat(file).catch(() => undefined))?.isDirectory()) {
    // arcface_torch's output folder: checkpoint_gpu_{rank}.pt (save_all_states); every rank holds the backbone
    const ck = readArcfaceTorchDir(file);
    return { stateDict: ck.stateDict, format: 'arcface-torch', source: { container: 'state_dict_backbone', epoch: ck.epoch, globalStep: ck.globalStep } };
  }
  const buf = await readBytes(file);
  if (isZip(buf) || isLegacyTorch(buf)) {
    const { stateDict, source } = extractStateDict(readTorchFile(buf, file), file);
    return { stateDict, source, format: isZip(buf) ? 'pth-zip' : 'pth-legacy' };
  }
  if (isSafetensors(buf) || extname(file).toLowerCase() === '.safetensors') {
    const { tensors, metadata } = readSafetensors(buf, file);
    const source: StateDictSource = {};
    return { stateDict: stripPrefix(tensors, source), source, format: 'safetensors', metadata };
  }
  if (buf.length === 0) throw new Error(`${file} is empty`);
  throw new Error(`${file}: not a PyTorch checkpoint (zip or legacy .pth/.pt) nor safetensors, judging by its first bytes; ONNX files must end in .onnx`);
}

/** Import an insightface model file as a Facet backbone (architecture detected unless `network` names it). */
export async function importModel(file: string, opts: ImportModelOptions = {}): Promise<Backbone> {
  checkKeys(opts, IMPORT_KEYS, 'importModel');
  const inputSize = positiveInt(opts.inputSize, 'importModel: inputSize');
  const heads = positiveInt(opts.heads, 'importModel: heads');
  const seed = opts.seed;
  const network = (opts.network ?? 'auto').trim();
  if (extname(file).toLowerCase() === '.onnx') return importOnnx(file, { inputSize, seed, network, onReport: opts.onReport });

  const { stateDict, format, source, metadata } = await readStateDictFile(file);
  const given: BackboneOptions = { ...(inputSize ? { inputSize } : {}), ...(heads ? { heads } : {}) };
  // Facet's own exports name their input side in the safetensors metadata
  if (!given.inputSize && metadata?.facet_input_size) given.inputSize = Number(metadata.facet_input_size);
  let detected: ReturnType<typeof detectArchitecture>;
  if (network === 'auto') {
    detected = detectArchitecture(stateDict, file, given);
  } else {
    // a named architecture: keep what the shapes say (width, embedding, input), take blocks from the name
    try {
      detected = detectArchitecture(stateDict, file, given);
      delete detected.options.blocks;
      detected.reasons.unshift(`network ${network} (given)`);
    } catch {
      detected = { network, options: { ...given }, reasons: [`network ${network} (given; the names match no architecture Facet detects)`] };
    }
    detected.network = network;
  }
  const options: BackboneOptions = { ...detected.options, ...(seed !== undefined ? { seed } : {}) };
  const backbone = backboneFromStateDict(detected.stateDict ?? stateDict, detected.network, options, file, detected.sourceName);
  opts.onReport?.({ file, format, network: backbone.name, options: backbone.options, reasons: detected.reasons, tensors: stateDict.size, source, metadata, numBatchesTracked: batchCount(stateDict) });
  return backbone;
}

function batchCount(sd: StateDict): number | undefined {
  let n: number | undefined;
  for (const [k, t] of sd) {
    if (!k.endsWith('.num_batches_tracked') || t.dtype !== 'I64' || t.data.length !== 8) continue;
    const v = Number(new DataView(t.data.buffer, t.data.byteOffset, 8).getBigInt64(0, true));
    n = Math.max(n ?? 0, v);
  }
  return n;
}

async function importOnnx(file: string, o: { inputSize?: number; seed?: number; network: string; onReport?: (r: ImportReport) => void }): Promise<Backbone> {
  // loaded on demand: @facet/onnx brings ONNX Runtime's native library, which .pth/.safetensors never need
  const { importOnnxBackbone } = await import('@facet/onnx');
  const r = await importOnnxBackbone(file, { ...(o.inputSize ? { inputSize: o.inputSize } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
  if (o.network !== 'auto') {
    const want = resolveNetworkName(o.network);
    if (want !== r.backbone.name) {
      const got = r.backbone.name;
      r.backbone.dispose();
      throw new Error(`${file} is a ${got} but network ${o.network} was given; leave network at auto for ONNX files`);
    }
  }
  o.onReport?.({ file, format: 'onnx', network: r.backbone.name, options: r.backbone.options, reasons: [r.detectedBecause], tensors: Object.keys(r.backbone.getWeights()).length, source: {} });
  return r.backbone;
}

/** Facet's registry name for a Facet or insightface name (r50 → iresnet50, mbf → mobilefacenet). */
function resolveNetworkName(name: string): string {
  const b = describeBackbone(name);
  return b.name;
}

function formatOf(file: string, format: ExportFormat | undefined): ExportFormat {
  if (format !== undefined) {
    if (!EXPORT_FORMATS.includes(format)) throw new Error(`exportModel: format ${JSON.stringify(format)} is not one of ${EXPORT_FORMATS.join(', ')}`);
    return format;
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.pth' || ext === '.pt') return 'pth';
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.onnx') return 'onnx';
  throw new Error(`exportModel: cannot tell the format from ${file}; pass format pth, safetensors or onnx`);
}

/** Export a backbone as insightface/PyTorch would hold it: `torch.save(model.state_dict())`, safetensors, or ONNX. */
export async function exportModel(backbone: Backbone, file: string, opts: ExportModelOptions = {}): Promise<{ file: string; format: ExportFormat; bytes: number }> {
  checkKeys(opts, EXPORT_KEYS, 'exportModel');
  const format = formatOf(file, opts.format);
  if (opts.numBatchesTracked !== undefined && (!Number.isSafeInteger(opts.numBatchesTracked) || opts.numBatchesTracked < 0)) {
    throw new Error(`exportModel: numBatchesTracked must be a non-negative integer (got ${opts.numBatchesTracked})`);
  }
  let data: Uint8Array;
  if (format === 'onnx') {
    const { exportOnnx } = await import('@facet/onnx');
    const r = await exportOnnx(backbone, file);
    return { file, format, bytes: r.bytes };
  }
  const sd = stateDictFromBackbone(backbone, { numBatchesTracked: opts.numBatchesTracked });
  if (format === 'pth') {
    data = writeTorchStateDict(sd);
  } else {
    for (const [k, v] of Object.entries(opts.metadata ?? {})) {
      if (typeof v !== 'string') throw new Error(`exportModel: metadata.${k} must be a string (safetensors metadata is string → string)`);
    }
    data = writeSafetensors(sd, { facet_network: backbone.name, facet_input_size: String(backbone.inputSize), ...opts.metadata });
  }
  await writeAtomic(file, data);
  return { file, format, bytes: data.byteLength };
}
