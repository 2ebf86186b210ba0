import { SPLIT_DEFAULTS, splitIdentities, type SplitReport } from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../../base.js';

export default class DataSplit extends FacetCommand {
  static description =
    'Hold out some identities of a folder for verification: <out>/train (the rest, to train or fine-tune on), <out>/test and <out>/pairs.txt (half genuine, identity-disjoint folds, as LFW) for facet eval --pairs';
  static examples = [
    '<%= config.bin %> data split faces/ split/ --held-out 30',
    '<%= config.bin %> train --init model/ --dataset split/train && <%= config.bin %> eval runs/ft --pairs split/pairs.txt --root split/test',
  ];
  static args = {
    source: Args.string({ description: 'image folder, root/<identity>/<image> (raw photos or aligned crops)', required: true }),
    out: Args.string({ description: 'new folder: train/ and test/ (links to the identity folders), pairs.txt, split.json', required: true }),
  };
  static flags = {
    'held-out': Flags.integer({ description: 'identities held out for verification (each needs 2 or more images)', default: SPLIT_DEFAULTS.heldOut, min: 2 }),
    pairs: Flags.integer({ description: 'verification pairs, half genuine (fewer when the held-out images cannot make that many)', default: SPLIT_DEFAULTS.pairs, min: 2 }),
    folds: Flags.integer({ description: 'identity-disjoint folds of the pairs (at most one per held-out identity)', default: SPLIT_DEFAULTS.folds, min: 2 }),
    seed: Flags.integer({ description: 'seed of the choice of identities and pairs', default: SPLIT_DEFAULTS.seed, min: 0 }),
  };

  async run(): Promise<SplitReport> {
    const { args, flags } = await this.parse(DataSplit);
    const r = await splitIdentities(args.source, args.out, { heldOut: flags['held-out'], pairs: flags.pairs, folds: flags.folds, seed: flags.seed });
    this.table(
      ['part', 'identities', 'images', 'where'],
      [
        ['train', String(r.train.identities), String(r.train.images), r.train.dir],
        ['test (held out)', String(r.test.identities), String(r.test.images), r.test.dir],
      ],
      { align: ['left', 'right', 'right', 'left'] },
    );
    this.log(`pairs: ${r.pairs.genuine} genuine + ${r.pairs.impostor} impostor in ${r.pairs.folds} identity-disjoint folds → ${r.pairs.file}`);
    return r;
  }
}
