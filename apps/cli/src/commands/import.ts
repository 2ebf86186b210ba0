import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { importModel, initEngine, saveBackbone, type BackendChoice, type ImportReport } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export interface ImportResult extends ImportReport {
  out: string;
  parameters: number;
}

export default class Import extends FacetCommand {
  static description =
    'Import an insightface model file (PyTorch .pth/.pt — zip or legacy, a bare state dict, an arcface_torch checkpoint_gpu_*.pt, a DDP module. state dict — .safetensors, or .onnx) as a Facet model folder; the architecture is detected from names and shapes. Pickles are read as data, never executed';
  static examples = [
    '<%= config.bin %> import model.pt --out models/r50',
    '<%= config.bin %> import checkpoint_gpu_0.pt --out models/mbf --network mbf',
    '<%= config.bin %> import w600k_r50.onnx --out models/w600k_r50 --json',
  ];
  static args = {
    file: Args.string({ description: 'model file: .pth / .pt / .safetensors / .onnx', required: true }),
  };
  static flags = {
    out: Flags.string({ char: 'o', description: 'model folder to write (default: <file name without extension>.facet beside the file)', default: '' }),
    network: Flags.string({ description: 'architecture: auto (detect from names and shapes) or a Facet / insightface name (iresnet50, r50, mbf, vit_t…)', default: 'auto' }),
    'input-size': Flags.integer({ description: 'input side when the weights allow several (0: detect; 112 for a 7×7 final map)', default: 0, min: 0 }),
    force: Flags.boolean({ description: 'replace an existing model folder at --out' }),
    heads: Flags.integer({ description: 'ViT attention heads, which the weights do not store (0: insightface\'s 8)', default: 0, min: 0 }),
  };

  async run(): Promise<ImportResult> {
    const { args, flags } = await this.parse(Import);
    const file = resolve(args.file);
    const out = resolve(flags.out || join(dirname(file), `${basename(file, extname(file))}.facet`));
    if (!flags.force && existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
      throw new Error(`--out ${out} already exists; choose another folder or pass --force to replace it`);
    }
    await initEngine({ backend: flags.backend as BackendChoice });
    let report: ImportReport | undefined;
    const backbone = await importModel(file, {
      network: flags.network,
      ...(flags['input-size'] ? { inputSize: flags['input-size'] } : {}),
      ...(flags.heads ? { heads: flags.heads } : {}),
      onReport: (r) => (report = r),
    });
    try {
      const r = report!;
      const where = [r.source.container && `under ${r.source.container}`, r.source.strippedPrefix && `prefix ${r.source.strippedPrefix} removed`]
        .filter(Boolean)
        .join(', ');
      this.log(`${args.file}: ${r.format}, ${r.tensors} tensors${where ? ` (${where})` : ''}${r.source.epoch !== undefined ? `, epoch ${r.source.epoch}, step ${r.source.globalStep}` : ''}`);
      for (const line of r.reasons) this.log(`  ${line}`);
      await saveBackbone(backbone, out, {
        importedFrom: file,
        importFormat: r.format,
        detected: r.reasons,
        ...(r.numBatchesTracked !== undefined ? { numBatchesTracked: r.numBatchesTracked } : {}),
      });
      this.log(`wrote ${out} (${backbone.name}, ${(backbone.parameterCount() / 1e6).toFixed(3)}M parameters, ${backbone.inputSize}×${backbone.inputSize} input, ${backbone.embeddingSize}-d)`);
      return { ...r, out, parameters: backbone.parameterCount() };
    } finally {
      backbone.dispose();
    }
  }
}
