import { resolve } from 'node:path';
import * as sdk from '@facet/sdk';
import { embedDataset, initEngine, writeEmbeddings, type BackendChoice, type EmbeddingModel } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../render/progress.js';
import { FacetCommand } from '../base.js';

// Looked up at run time: @facet/backbones and @facet/data are separate libs re-exported by the SDK.
interface ModelDataApi {
  loadBackbone(dir: string): Promise<EmbeddingModel & { dispose?(): void }>;
  openDataset(
    path: string,
    opts?: { imageSize?: number },
  ): Promise<{ size: number; labels: Int32Array; classNames: string[]; read(i: number): Promise<Uint8Array>; describe(i: number): string }>;
}

function api<K extends keyof ModelDataApi>(name: K): ModelDataApi[K] {
  const fn = (sdk as unknown as Partial<ModelDataApi>)[name];
  if (typeof fn !== 'function') {
    throw new Error(`this build of @facet/sdk has no ${name}() (libs/backbones or libs/data not built); rebuild with npm run build.`);
  }
  return fn as ModelDataApi[K];
}

export interface EmbedResult {
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
    'Embed a folder of aligned face crops (one sub-folder per identity) with the insightface flip test; writes <out>.npy (float32 [N, dim], L2-normalised) and <out>.json (paths, labels, classes)';
  static examples = ['<%= config.bin %> embed runs/r18 faces/ --out emb.npy', '<%= config.bin %> embed runs/r18 faces/ --out emb.npy --no-flip --json'];
  static args = {
    model: Args.string({ description: 'model folder (as saved by facet train)', required: true }),
    images: Args.string({ description: 'image folder, one sub-folder per identity', required: true }),
  };
  static flags = {
    out: Flags.string({ char: 'o', description: 'output .npy (the .json goes beside it)', default: 'embeddings.npy' }),
    flip: Flags.boolean({ description: 'flip test: embed image + mirror (insightface); --no-flip to disable', default: true, allowNo: true }),
    'batch-size': Flags.integer({ description: 'images per forward pass', default: 64, min: 1 }),
  };

  async run(): Promise<EmbedResult> {
    const { args, flags } = await this.parse(Embed);
    if (!/\.npy$/i.test(flags.out)) throw new Error(`--out ${flags.out} must end in .npy (the metadata .json is written beside it).`);
    await initEngine({ backend: flags.backend as BackendChoice });
    const model = await api('loadBackbone')(args.model);
    try {
      const ds = await api('openDataset')(args.images, { imageSize: model.inputSize });
      const t0 = performance.now();
      const bar = countProgress('embed');
      const emb = await embedDataset(model, ds, { flip: flags.flip, batchSize: flags['batch-size'], onProgress: bar.update });
      bar.stop();
      const seconds = (performance.now() - t0) / 1000;
      const files = writeEmbeddings(resolve(flags.out), emb.embeddings, emb.dim, {
        paths: Array.from({ length: ds.size }, (_, i) => ds.describe(i)),
        labels: Array.from(ds.labels),
        classes: ds.classNames,
        model: resolve(args.model),
        flip: flags.flip,
        normalized: true,
      });
      this.log(`embedded ${emb.count} images of ${ds.classNames.length} identities in ${seconds.toFixed(1)} s (${emb.dim}-d, flip ${flags.flip ? 'on' : 'off'}, XNorm ${emb.xnorm.toFixed(2)})`);
      this.log(`wrote ${files.npy} and ${files.json}`);
      return { ...files, count: emb.count, dim: emb.dim, classes: ds.classNames.length, flip: flags.flip, xnorm: emb.xnorm, seconds };
    } finally {
      model.dispose?.();
    }
  }
}
