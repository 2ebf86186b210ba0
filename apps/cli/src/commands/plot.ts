import { plotRun } from '@facet/sdk';
import { Args } from '@oclif/core';
import { FacetCommand } from '../base.js';

export default class Plot extends FacetCommand {
  static description = "Re-draw a training run's plots (loss, accuracy, learning rate, validation) from its logs";
  static args = { run: Args.string({ description: 'training output directory', required: true }) };

  async run(): Promise<{ files: string[] }> {
    const { args } = await this.parse(Plot);
    const files = await plotRun(args.run);
    for (const f of files) this.log(f);
    return { files };
  }
}
