import { listBackbones, type BackboneInfo } from '@facet/sdk';
import { Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';

export interface ModelsReport {
  inputSize: number;
  width: number;
  backbones: BackboneInfo[];
}

export default class Models extends FacetCommand {
  static description =
    'List the backbones Facet builds (insightface IResNet, MobileFaceNet, ViT): parameters, GFLOPs per image (2 × multiply-adds) and embedding size';
  static examples = ['<%= config.bin %> models', '<%= config.bin %> models --json', '<%= config.bin %> models --input-size 56 --width 0.25'];
  static flags = {
    'input-size': Flags.integer({ description: 'square input side in pixels', default: 112, min: 1 }),
    width: Flags.string({ description: 'channel multiplier (e.g. 0.25 for CPU-sized variants)', default: '1' }),
    'embedding-size': Flags.integer({ description: "embedding size D (default: each network's own, 512 as insightface; 128 for mobilefacenet_orig as the paper)", min: 1 }),
  };

  async run(): Promise<ModelsReport> {
    const { flags } = await this.parse(Models);
    const width = Number(flags.width);
    if (!Number.isFinite(width)) throw new Error(`--width ${flags.width} is not a number; use e.g. --width 0.25`);
    const backbones = listBackbones({ inputSize: flags['input-size'], width, embeddingSize: flags['embedding-size'] });
    const head = ['name', 'params', 'GFLOPs/img', 'embedding', 'description'];
    const rows = backbones.map((b) => [b.name, `${(b.parameters / 1e6).toFixed(3)}M`, b.gflops.toFixed(2), String(b.embeddingSize), b.description]);
    this.table(head, rows, { align: ['left', 'right', 'right', 'right', 'left'] });
    this.log(
      `\n${flags['input-size']}×${flags['input-size']} input, width ×${width}. Parameters as PyTorch counts them (BN running stats excluded); ` +
        `GFLOPs = 2 × multiply-adds (insightface's README quotes multiply-adds).`,
    );
    return { inputSize: flags['input-size'], width, backbones };
  }
}
