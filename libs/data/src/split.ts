// Split an identity folder into training identities and held-out identities with a verification pairs list over
// the held-out ones — what fine-tuning on "your own people" needs: train on some, verify on people never trained on.
// The pairs follow LFW's View 2 design (Huang et al. 2007): folds are identity-disjoint (a person appears in one fold
// only, so a fold's threshold is never chosen on pairs of the same people) and each fold is half genuine, half
// impostor. Lines are "pathA pathB same fold", paths relative to <dst>/test, as `facet eval --pairs --root` reads.
import { existsSync, mkdirSync, readdirSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DataError } from './errors.js';
import { scanImageFolder } from './folder-dataset.js';
import { makeRng, shuffleInPlace, type Rng } from './rng.js';

export interface SplitOptions {
  /** Identities held out for verification (never trained on). Default 10, as the small real sets. */
  heldOut?: number;
  /** Verification pairs to write, half genuine (fewer when the held-out images cannot make that many). Default 600. */
  pairs?: number;
  /** Identity-disjoint folds of the pairs list. Default 10 (LFW), at most one per held-out identity. */
  folds?: number;
  seed?: number;
}

export const SPLIT_DEFAULTS = { heldOut: 10, pairs: 600, folds: 10, seed: 2048 } as const;

export interface SplitReport {
  src: string;
  dst: string;
  train: { dir: string; identities: number; images: number };
  test: { dir: string; identities: number; images: number; names: string[] };
  pairs: { file: string; genuine: number; impostor: number; folds: number };
}

interface Pair {
  a: string;
  b: string;
  same: boolean;
  fold: number;
}

/** k distinct items of `all` (all of them when k ≥ their number), in a seeded order. */
function sample<T>(all: T[], k: number, rng: Rng): T[] {
  const copy = all.slice();
  shuffleInPlace(copy, rng);
  return copy.slice(0, Math.max(0, Math.min(k, copy.length)));
}

/** A pairs line takes whitespace as its separator: names with blanks would be read as other columns. */
function checkName(path: string, src: string): void {
  if (/\s/.test(path)) {
    throw new DataError(`${join(src, path)}: the name has a blank, which a pairs line cannot hold (columns are separated by blanks); rename it (e.g. spaces to underscores)`, src);
  }
}

export async function splitIdentities(src: string, dst: string, opts: SplitOptions = {}): Promise<SplitReport> {
  const o = { ...SPLIT_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<SplitOptions>;
  for (const [flag, v, min] of [['--held-out', o.heldOut, 2], ['--pairs', o.pairs, 2], ['--folds', o.folds, 2]] as const) {
    if (!Number.isInteger(v) || v < min) throw new DataError(`${flag} ${v}: must be a whole number ≥ ${min}`, src);
  }
  if (existsSync(dst) && readdirSync(dst).length > 0) throw new DataError(`${dst}: exists and is not empty; pass a new or empty folder for the split`, dst);
  const scan = await scanImageFolder(src);
  const byIdentity = scan.classNames.map((name) => ({ name, files: [] as string[] }));
  scan.files.forEach((f, i) => byIdentity[scan.labels[i]!]!.files.push(relative(scan.root, f)));
  // a held-out identity needs two images for a genuine pair
  const eligible = byIdentity.filter((c) => c.files.length >= 2);
  if (eligible.length < o.heldOut) {
    throw new DataError(`${src}: ${eligible.length} identities have 2 or more images, fewer than --held-out ${o.heldOut}; lower --held-out or add photos`, src);
  }
  if (byIdentity.length - o.heldOut < 2) {
    throw new DataError(`${src}: holding out ${o.heldOut} of ${byIdentity.length} identities leaves fewer than 2 to train on; lower --held-out`, src);
  }
  const rng = makeRng(o.seed);
  const test = sample(eligible, o.heldOut, rng).sort((a, b) => (a.name < b.name ? -1 : 1));
  const testNames = new Set(test.map((c) => c.name));
  const train = byIdentity.filter((c) => !testNames.has(c.name));
  for (const c of test) for (const f of c.files) checkName(f, src);

  // identity-disjoint folds: the held-out identities dealt round-robin (in a seeded order)
  const folds = Math.min(o.folds, test.length);
  const order = sample(test, test.length, rng);
  const perFold = Array.from({ length: folds }, (_, k) => order.filter((_, i) => i % folds === k));
  const pairs: Pair[] = [];
  const wantGenuine = Math.floor(o.pairs / 2);
  for (let k = 0; k < folds; k++) {
    const people = perFold[k]!;
    const genuine = people.flatMap((c) => c.files.flatMap((a, i) => c.files.slice(i + 1).map((b) => ({ a, b }))));
    const impostor = people.flatMap((c, i) => people.slice(i + 1).flatMap((d) => c.files.flatMap((a) => d.files.map((b) => ({ a, b })))));
    // this fold's share of the genuine pairs; as many impostor pairs as genuine ones (LFW: 300 + 300 per fold)
    const share = Math.floor(wantGenuine / folds) + (k < wantGenuine % folds ? 1 : 0);
    const n = Math.min(share, genuine.length, impostor.length);
    for (const p of sample(genuine, n, rng)) pairs.push({ ...p, same: true, fold: k + 1 });
    for (const p of sample(impostor, n, rng)) pairs.push({ ...p, same: false, fold: k + 1 });
  }
  if (pairs.length === 0) throw new DataError(`${src}: the held-out identities make no pairs; raise --held-out`, src);

  const out = resolve(dst);
  const trainDir = join(out, 'train');
  const testDir = join(out, 'test');
  mkdirSync(trainDir, { recursive: true });
  mkdirSync(testDir, { recursive: true });
  // links, not copies: the photos stay where they are (Facet's folder readers follow links)
  const link = (c: { name: string }, dir: string) => symlinkSync(realpathSync(join(scan.root, c.name)), join(dir, c.name), 'dir');
  for (const c of train) link(c, trainDir);
  for (const c of test) link(c, testDir);
  const pairsFile = join(out, 'pairs.txt');
  const text = `# ${pairs.length} pairs over ${test.length} held-out identities of ${src}: pathA pathB same(1|0) fold (paths under test/)\n` + pairs.map((p) => `${p.a} ${p.b} ${p.same ? 1 : 0} ${p.fold}`).join('\n') + '\n';
  writeFileSync(`${pairsFile}.tmp`, text);
  renameSync(`${pairsFile}.tmp`, pairsFile);

  const genuine = pairs.filter((p) => p.same).length;
  const report: SplitReport = {
    src: scan.root,
    dst: out,
    train: { dir: trainDir, identities: train.length, images: train.reduce((s, c) => s + c.files.length, 0) },
    test: { dir: testDir, identities: test.length, images: test.reduce((s, c) => s + c.files.length, 0), names: test.map((c) => c.name) },
    pairs: { file: pairsFile, genuine, impostor: pairs.length - genuine, folds },
  };
  writeFileSync(join(out, 'split.json.tmp'), JSON.stringify({ ...report, options: o }, null, 2) + '\n');
  renameSync(join(out, 'split.json.tmp'), join(out, 'split.json'));
  return report;
}
