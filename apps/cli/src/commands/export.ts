import { basename, resolve } from 'node:path';
import { EXPORT_FORMATS, exportModel, initEngine, loadBackbone, type BackendChoice, type ExportFormat } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export interface ExportResult {
  model: string;
  file: string;
  format: ExportFormat;
  bytes: number;
  network: string;
}

const EXTENSION: Record<ExportFormat, string> = { pth: '.pth', safetensors: '.safetensors', onnx: '.onnx' };

export default class Export extends FacetCommand {
  static description =
    "Export a Facet model folder as insightface uses it: .pth (torch.save(model.state_dict()), loads with get_model(name).load_state_dict(sd, strict=True)), .safetensors (what safetensors.torch.save_file writes), or .onnx (torch2onnx.py's layout)";
  static examples = [
    '<%= config.bin %> export runs/r50/model --format pth --out r50.pth',
    '<%= config.bin %> export runs/mbf/model --format onnx --out mbf.onnx',
    '<%= config.bin %> export runs/mbf/model --format safetensors',
  ];
  static args = {
    model: Args.string({ description: 'Facet model folder (as saved by facet train or facet import)', required: true }),
  };
  static flags = {
    format: Flags.string({ char: 'f', description: 'file format', options: [...EXPORT_FORMATS], default: 'pth' }),
    out: Flags.string({ char: 'o', description: 'output file (default: <model folder><extension of the format>)', default: '' }),
    'num-batches-tracked': Flags.integer({ description: 'value of every BatchNorm num_batches_tracked buffer (.pth/.safetensors)', default: 0, min: 0 }),
  };

  async run(): Promise<ExportResult> {
    const { args, flags } = await this.parse(Export);
    const format = flags.format as ExportFormat;
    const model = resolve(args.model);
    const file = resolve(flags.out || `${model}${EXTENSION[format]}`);
    await initEngine({ backend: flags.backend as BackendChoice });
    const backbone = await loadBackbone(model);
    try {
      const r = await exportModel(backbone, file, { format, ...(format !== 'onnx' ? { numBatchesTracked: flags['num-batches-tracked'] } : {}) });
      this.log(`wrote ${r.file} (${format}, ${backbone.name}, ${(r.bytes / 1e6).toFixed(2)} MB) from ${basename(model)}`);
      return { model, file: r.file, format, bytes: r.bytes, network: backbone.name };
    } finally {
      backbone.dispose();
    }
  }
}
