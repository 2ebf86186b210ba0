// Raw-pixel verification accuracy on held-out synthetic pairs (cosine on normalised pixels, best threshold).
//   node libs/data/scripts/run.mjs libs/data/scripts/raw-pixel-baseline.ts [pairs=600] [nuisance=1] [seed=0]
import { rawPixelVerification } from '../src/verification/raw-pixel.js';
import { syntheticVerificationSet } from '../src/verification/synthetic.js';

const [pairs = '600', nuisance = '1', seed = '0'] = process.argv.slice(2);
const t0 = performance.now();
const set = syntheticVerificationSet({ pairs: Number(pairs), nuisance: Number(nuisance), seed: Number(seed) });
const res = rawPixelVerification(set);
console.log(`${set.name}: ${set.issame.length} pairs, raw-pixel accuracy ${(100 * res.accuracy).toFixed(1)} % (cosine threshold ${res.threshold.toFixed(3)}), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
