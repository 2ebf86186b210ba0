// The pair sets eval and quality read: which flags name which sets, in which order, loaded with which arguments.
import { describe, expect, it } from 'vitest';
import { anyPairSet, checkPairSetFlags, pairSets, type PairSetLoaders } from '../src/pair-sets.js';

const calls: unknown[][] = [];
const loaders: PairSetLoaders<string> = {
  loadBin: async (p, o) => (calls.push(['bin', p, o]), `bin:${p}`),
  loadPairs: async (p, root, o) => (calls.push(['pairs', p, root, o]), `pairs:${p}`),
  syntheticVerificationSet: (o) => (calls.push(['synthetic', o]), 'synthetic'),
};

describe('pairSets', () => {
  it('names each set after its file, keeps .bin, pairs, synthetic order, and loads only when asked', async () => {
    calls.length = 0;
    const flags = { bin: ['/d/lfw.bin', 'cfp_fp.BIN'], pairs: 'lists/pairs.txt', root: 'faces', synthetic: true, 'synthetic-pairs': 120, seed: 7 };
    const sets = pairSets(flags, 56, loaders);
    expect(sets.map((s) => s.name)).toEqual(['lfw', 'cfp_fp', 'pairs', 'synthetic']);
    expect(calls).toEqual([]);
    expect(await Promise.all(sets.map((s) => s.load()))).toEqual(['bin:/d/lfw.bin', 'bin:cfp_fp.BIN', 'pairs:lists/pairs.txt', 'synthetic']);
    expect(calls).toEqual([
      ['bin', '/d/lfw.bin', { imageSize: 56 }],
      ['bin', 'cfp_fp.BIN', { imageSize: 56 }],
      ['pairs', 'lists/pairs.txt', 'faces', { imageSize: 56 }],
      ['synthetic', { imageSize: 56, pairs: 120, seed: 7 }],
    ]);
  });

  it('names no set when no flag asks for one, and refuses --pairs without --root', () => {
    expect(pairSets({ synthetic: false, 'synthetic-pairs': 600, seed: 0 }, 112, loaders)).toEqual([]);
    expect(anyPairSet({ synthetic: false })).toBe(false);
    expect(anyPairSet({ synthetic: false, bin: [] })).toBe(false);
    expect(anyPairSet({ synthetic: false, pairs: 'p.txt' })).toBe(true);
    expect(() => checkPairSetFlags({ pairs: 'p.txt' })).toThrow(/--pairs needs --root/);
    expect(() => checkPairSetFlags({ pairs: 'p.txt', root: 'faces' })).not.toThrow();
  });
});
