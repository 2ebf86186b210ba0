import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EXPORT_FORMATS, exportArcfaceTorch, exportModel, initEngine, loadBackbone, readBackboneManifest, type ArcfaceTorchExport, type BackendChoice, type ExportFormat } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export interface ExportResult {
  model: string;
  file: string;
  format: ExportFormat;
  bytes: number;
  network: string;
}

export type ArcfaceTorchResult = ArcfaceTorchExport & { run: string; format: 'arcface-torch' };

function refuseExisting(path: string, force: boolean): void {
  if (!force && existsSync(path)) throw new Error(`--out ${path} already exists; choose another name or pass --force to replace it`);
}

const EXTENSION: Record<ExportFormat, string> = { pth: '.pth', safetensors: '.safetensors', onnx: '.onnx' };

export default class Export extends FacetCommand {
  static description =
    "Export a Facet model folder as insightface uses it: .pth (torch.save(model.state_dict()), loads with get_model(name).load_state_dict(sd, strict=True)), .safetensors (what safetensors.torch.save_file writes), or .onnx (torch2onnx.py's layout)";
  static examples = [
    '<%= config.bin %> export runs/r50/model --format pth --out r50.pth',
    '<%= config.bin %> export runs/mbf/model --format onnx --out mbf.onnx',
    '<%= config.bin %> export runs/mbf/model --format safetensors',
    '<%= config.bin %> export runs/r50 --format arcface-torch --world-size 8 --out r50_arcface_torch',
  ];
  static args = {
    model: Args.string({ description: 'Facet model folder (as saved by facet train or facet import); for arcface-torch, a facet train run', required: true }),
  };
  static flags = {
    format: Flags.string({
      char: 'f',
      description: 'file format; arcface-torch writes a run as checkpoint_gpu_{rank}.pt files + config .py to continue under insightface',
      options: [...EXPORT_FORMATS, 'arcface-torch'],
      default: 'pth',
    }),
    out: Flags.string({ char: 'o', description: 'output file, or folder for arcface-torch (default: <model folder><extension of the format>, <run>/arcface_torch)', default: '' }),
    force: Flags.boolean({ description: 'replace an existing output file (or arcface-torch folder)' }),
    'world-size': Flags.integer({ description: 'arcface-torch: GPUs (ranks) the Partial FC centres are split over', default: 1, min: 1 }),
    'num-batches-tracked': Flags.integer({
      description: 'value of every BatchNorm num_batches_tracked buffer (.pth/.safetensors); default: the count facet import recorded, else 0',
      min: 0,
    }),
  };

  async run(): Promise<ExportResult | ArcfaceTorchResult> {
    const { args, flags } = await this.parse(Export);
    if (flags.format === 'arcface-torch') {
      await initEngine({ backend: flags.backend as BackendChoice });
      const run = resolve(args.model);
      const dir = resolve(flags.out || join(run, 'arcface_torch'));
      refuseExisting(dir, flags.force);
      const r = await exportArcfaceTorch(run, dir, { worldSize: flags['world-size'] });
      this.log(`wrote ${r.files.length} arcface_torch checkpoint(s) (epoch ${r.epoch}, global step ${r.globalStep}, ${r.numClasses} classes as ${r.numLocal.join(' + ')}) and ${r.config} to ${r.dir}`);
      for (const n of r.notCarried) this.log(`  not carried: ${n}`);
      return { ...r, run, format: 'arcface-torch' };
    }
    const format = flags.format as ExportFormat;
    const model = resolve(args.model);
    const file = resolve(flags.out || `${model}${EXTENSION[format]}`);
    refuseExisting(file, flags.force);
    await initEngine({ backend: flags.backend as BackendChoice });
    const backbone = await loadBackbone(model);
    try {
      const recorded = (await readBackboneManifest(model)).extra?.numBatchesTracked;
      const numBatchesTracked = flags['num-batches-tracked'] ?? (typeof recorded === 'number' ? recorded : 0);
      const r = await exportModel(backbone, file, { format, ...(format !== 'onnx' ? { numBatchesTracked } : {}) });
      this.log(`wrote ${r.file} (${format}, ${backbone.name}, ${(r.bytes / 1e6).toFixed(2)} MB) from ${basename(model)}`);
      return { model, file: r.file, format, bytes: r.bytes, network: backbone.name };
    } finally {
      backbone.dispose();
    }
  }
}
