import { basename } from 'node:path';
import { Flags } from '@oclif/core';

/**
 * The verification pair sets a command reads (`--bin`, `--pairs` with `--root`, `--synthetic`): `facet eval` scores
 * them, `facet quality --erc` draws error-versus-reject curves on them. One place so both take the same flags with
 * the same meaning and name each set the same way (the file name without its extension).
 */
export function pairSetFlags(defaults: { syntheticPairs: number; syntheticDescription: string }) {
  return {
    bin: Flags.string({ description: 'insightface verification .bin (repeat for several sets) (default: none)', multiple: true }),
    pairs: Flags.string({ description: 'LFW-style pairs.txt (with --root) (default: none)' }),
    root: Flags.string({ description: 'image folder the --pairs entries refer to (default: none)' }),
    synthetic: Flags.boolean({ description: defaults.syntheticDescription }),
    'synthetic-pairs': Flags.integer({ description: 'number of synthetic pairs (half genuine)', default: defaults.syntheticPairs, min: 20 }),
  };
}

export interface PairSetFlagValues {
  bin?: string[];
  pairs?: string;
  root?: string;
  synthetic: boolean;
  'synthetic-pairs': number;
  seed: number;
}

/** How a command loads each kind of set (the SDK's loaders, or eval's run-time lookup of them). */
export interface PairSetLoaders<T> {
  loadBin(path: string, opts: { imageSize: number }): Promise<T>;
  loadPairs(pairsPath: string, root: string, opts: { imageSize: number }): Promise<T>;
  syntheticVerificationSet(opts: { imageSize: number; pairs: number; seed: number }): T;
}

export const anyPairSet = (flags: Omit<PairSetFlagValues, 'seed' | 'synthetic-pairs'>) => Boolean(flags.bin?.length || flags.pairs || flags.synthetic);

/** Flag combinations that cannot be read, as an error that names the fix. */
export function checkPairSetFlags(flags: Pick<PairSetFlagValues, 'pairs' | 'root'>): void {
  if (flags.pairs && !flags.root) throw new Error('--pairs needs --root, the folder its image names refer to.');
}

/** The sets the flags name, in a fixed order (.bin files, pairs list, synthetic), each loaded only when reached. */
export function pairSets<T>(flags: PairSetFlagValues, imageSize: number, loaders: PairSetLoaders<T>): Array<{ name: string; load: () => Promise<T> }> {
  return [
    ...(flags.bin ?? []).map((p) => ({ name: basename(p).replace(/\.bin$/i, ''), load: () => loaders.loadBin(p, { imageSize }) })),
    ...(flags.pairs ? [{ name: basename(flags.pairs).replace(/\.[^.]+$/, ''), load: () => loaders.loadPairs(flags.pairs!, flags.root!, { imageSize }) }] : []),
    ...(flags.synthetic
      ? [{ name: 'synthetic', load: async () => loaders.syntheticVerificationSet({ imageSize, pairs: flags['synthetic-pairs'], seed: flags.seed }) }]
      : []),
  ];
}
