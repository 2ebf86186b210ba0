import { join } from 'node:path';
import {
  HELD_OUT_IDENTITY_OFFSET,
  rawPixelVerification,
  SyntheticFaceDataset,
  syntheticVerificationSet,
  writeBin,
  writeDatasetFolder,
  writeLabelMap,
} from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { countProgress } from '../../render/progress.js';
import { FacetCommand } from '../../base.js';

export interface SynthResult {
  out: string;
  identities: number;
  imagesPerIdentity: number;
  images: number;
  seed: number;
  imageSize: number;
  nuisance: number;
  labelMap: string;
  bin?: { path: string; pairs: number; identities: string; rawPixelAccuracy: number };
  seconds: number;
}

export default class DataSynth extends FacetCommand {
  static description =
    'Write the built-in synthetic face set as an image folder (out/<id_NNNNN>/<n>.png), and optionally a held-out .bin verification set';
  static examples = [
    '<%= config.bin %> data synth faces --identities 100 --images 20',
    '<%= config.bin %> data synth faces --identities 50 --images 10 --seed 3 --bin faces-val.bin --pairs 600',
  ];
  static args = { out: Args.string({ description: 'output folder', required: true }) };
  static flags = {
    identities: Flags.integer({ description: 'number of identities', default: 100, min: 1 }),
    images: Flags.integer({ description: 'images per identity', default: 20, min: 1 }),
    seed: Flags.integer({ description: 'world seed (identities and nuisances derive from it)', default: 0, min: 0 }),
    size: Flags.integer({ description: 'image side in pixels', default: 112, min: 8, max: 1024 }),
    nuisance: Flags.string({ description: 'nuisance strength in [0, 1] (pose, light, occlusion, noise, blur)', default: '1' }),
    format: Flags.string({ description: 'image format', options: ['png', 'jpeg'], default: 'png' }),
    bin: Flags.string({ description: 'also write an insightface .bin verification set of held-out identities here (default: none)' }),
    pairs: Flags.integer({ description: 'pairs in the .bin (half genuine)', default: 600, min: 2 }),
    'bin-identities': Flags.integer({ description: 'held-out identities the .bin draws from', default: 100, min: 2 }),
  };

  async run(): Promise<SynthResult> {
    const { args, flags } = await this.parse(DataSynth);
    const t0 = performance.now();
    const nuisance = Number(flags.nuisance);
    if (!(nuisance >= 0 && nuisance <= 1)) this.error(`--nuisance must be a number in [0, 1], got ${flags.nuisance}`, { exit: 2 });
    const ds = new SyntheticFaceDataset({ identities: flags.identities, imagesPerIdentity: flags.images, seed: flags.seed, imageSize: flags.size, nuisance });
    const bar = countProgress('synth');
    await writeDatasetFolder(ds, args.out, { format: flags.format as 'png' | 'jpeg', onProgress: bar.update });
    bar.stop();
    const labelMap = await writeLabelMap(join(args.out, 'labels.json'), ds);
    const result: SynthResult = {
      out: args.out,
      identities: ds.numClasses,
      imagesPerIdentity: flags.images,
      images: ds.size,
      seed: flags.seed,
      imageSize: flags.size,
      nuisance,
      labelMap,
      seconds: 0,
    };
    this.log(`wrote ${ds.size} images of ${ds.numClasses} identities to ${args.out}`);
    if (flags.bin) {
      const set = syntheticVerificationSet({
        pairs: flags.pairs,
        identities: flags['bin-identities'],
        imagesPerIdentity: flags.images,
        seed: flags.seed,
        imageSize: flags.size,
        nuisance,
      });
      await writeBin(flags.bin, set, { format: flags.format as 'png' | 'jpeg' });
      const raw = rawPixelVerification(set);
      const ids = `id_${HELD_OUT_IDENTITY_OFFSET}..id_${HELD_OUT_IDENTITY_OFFSET + flags['bin-identities'] - 1}`;
      result.bin = { path: flags.bin, pairs: set.issame.length, identities: ids, rawPixelAccuracy: raw.accuracy };
      this.log(`wrote ${set.issame.length} pairs of held-out identities ${ids} to ${flags.bin} (raw-pixel accuracy ${(100 * raw.accuracy).toFixed(1)} %)`);
    }
    result.seconds = (performance.now() - t0) / 1000;
    return result;
  }
}
