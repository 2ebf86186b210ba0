import { join, resolve } from 'node:path';
import { embedDataset, initEngine, openDataset, openEmbeddingModel, writeEmbeddings, type BackendChoice, type InferenceRuntime } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../render/progress.js';
import { FacetCommand } from '../base.js';
import { checkOutFolder, outFolderFlag } from '../out-flag.js';
import { runtimeFlag } from '../runtime-flag.js';
import { alignFlag, alignIfAsked } from '../align-flag.js';

export interface EmbedResult {
  runtime: 'onnx' | 'tfjs';
  npy: string;
  json: string;
  count: number;
  dim: number;
  classes: number;
  flip: boolean;
  xnorm: number;
  seconds: number;
}

export default class Embed extends FacetCommand {
  static description =
    'Embed a folder of aligned face crops (one sub-folder per identity) with the insightface flip test; writes <out>/embeddings.npy (float32 [N, dim], L2-normalised) and <out>/embeddings.json (paths, labels, classes)';
  static examples = ['<%= config.bin %> embed runs/r18 faces/ --out emb/', '<%= config.bin %> embed runs/r18 faces/ --out emb/ --no-flip --json'];
  static args = {
    model: Args.string({ description: 'model folder (as saved by facet train or facet import) or an .onnx file', required: true }),
    images: Args.string({ description: 'image folder, one sub-folder per identity', required: true }),
  };
  static flags = {
    out: outFolderFlag('embeddings', 'embeddings.npy and embeddings.json'),
    flip: Flags.boolean({ description: 'flip test: embed image + mirror (insightface); --no-flip to disable', default: true, allowNo: true }),
    'batch-size': Flags.integer({ description: 'images per forward pass', default: 64, min: 1 }),
    runtime: runtimeFlag,
    align: alignFlag,
  };

  async run(): Promise<EmbedResult> {
    const { args, flags } = await this.parse(Embed);
    checkOutFolder(flags.out, 'embeddings.npy and embeddings.json');
    await initEngine({ backend: flags.backend as BackendChoice });
    const opened = await openEmbeddingModel(args.model, { runtime: flags.runtime as InferenceRuntime });
    const model = opened.model;
    try {
      const images = await alignIfAsked(args.images, model.inputSize, flags.align, (l) => this.logToStderr(l));
      const ds = await openDataset(images, { imageSize: model.inputSize });
      const t0 = performance.now();
      const bar = countProgress('embed');
      const emb = await embedDataset(model, ds, { flip: flags.flip, batchSize: flags['batch-size'], onProgress: bar.update });
      bar.stop();
      const seconds = (performance.now() - t0) / 1000;
      const files = writeEmbeddings(join(resolve(flags.out), 'embeddings.npy'), emb.embeddings, emb.dim, {
        paths: Array.from({ length: ds.size }, (_, i) => ds.describe(i)),
        labels: Array.from(ds.labels),
        classes: ds.classNames,
        model: resolve(args.model),
        flip: flags.flip,
        normalized: true,
      });
      this.log(`embedded ${emb.count} images of ${ds.classNames.length} identities in ${seconds.toFixed(1)} s (${emb.dim}-d, flip ${flags.flip ? 'on' : 'off'}, XNorm ${emb.xnorm.toFixed(2)}; ${opened.why})`);
      this.log(`wrote ${files.npy} and ${files.json}`);
      return { ...files, runtime: opened.runtime, count: emb.count, dim: emb.dim, classes: ds.classNames.length, flip: flags.flip, xnorm: emb.xnorm, seconds };
    } finally {
      await opened.dispose();
    }
  }
}
