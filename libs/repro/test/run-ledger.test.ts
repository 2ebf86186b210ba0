import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  baseConfig,
  codeVersionAt,
  currentCodeVersion,
  ledgerVersionNotes,
  marginsExperiment,
  NUMERICS_VERSION,
  planRepro,
  QUICK_SIZES,
  readGitCommit,
  RunLedger,
  runFingerprint,
  RUN_LEDGER_FILE,
  type PlannedRun,
} from '../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'facet-ledger-'));
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** A commit of this checkout's history (HEAD moves while tests run when others commit to the same tree). */
const isCommitOfThisRepo = (commit: string | undefined) => {
  if (!commit || !/^[0-9a-f]{40}$/.test(commit)) return false;
  try {
    execFileSync('git', ['merge-base', '--is-ancestor', commit, 'HEAD'], { cwd: repoRoot });
    return true;
  } catch {
    return false;
  }
};

describe('run ledger (finished runs kept in the report folder)', () => {
  it('fingerprints the config without its output folder, and the measurement settings', () => {
    const a = baseConfig(QUICK_SIZES, 'synthetic', '/x/runs/a', 2048, { head: 'arcface' });
    const b = baseConfig(QUICK_SIZES, 'synthetic', '/elsewhere/b', 2048, { head: 'arcface' });
    expect(runFingerprint(a)).toBe(runFingerprint(b));
    expect(runFingerprint(a)).not.toBe(runFingerprint(baseConfig(QUICK_SIZES, 'synthetic', '/x/runs/a', 2049, { head: 'arcface' })));
    expect(runFingerprint(a)).not.toBe(runFingerprint(baseConfig(QUICK_SIZES, 'synthetic', '/x/runs/a', 2048, { head: 'cosface' })));
    expect(runFingerprint(a, { noise: 0.2 })).not.toBe(runFingerprint(a, { noise: 0.4 }));
  });

  it('stores NaN as null and reads it back as NaN; a different fingerprint is a miss; survives a reload', () => {
    const dir = tmp();
    const l = RunLedger.inDir(dir);
    l.put('k1-s2048', 'f1', { accuracy: 0.9, recall: NaN });
    expect(JSON.parse(readFileSync(join(dir, RUN_LEDGER_FILE), 'utf8')).runs['k1-s2048'].values.recall).toBeNull();
    const again = RunLedger.inDir(dir);
    const v = again.get('k1-s2048', 'f1')!;
    expect(v.accuracy).toBe(0.9);
    expect(Number.isNaN(v.recall)).toBe(true);
    expect(again.get('k1-s2048', 'f2')).toBeUndefined();
    expect(again.get('k3-s2048', 'f1')).toBeUndefined();
  });

  it('keeps the runs another process recorded meanwhile', () => {
    const dir = tmp();
    const a = RunLedger.inDir(dir);
    const b = RunLedger.inDir(dir);
    a.put('k1-s2048', 'f', { accuracy: 0.8 });
    b.put('k1-s2049', 'f', { accuracy: 0.7 });
    expect(RunLedger.inDir(dir).keys().sort()).toEqual(['k1-s2048', 'k1-s2049']);
  });

  it('measures once, then reads back; without resume it measures again', async () => {
    const l = RunLedger.inDir(tmp());
    let calls = 0;
    const m = async () => ({ accuracy: 0.5 + calls++, output: 'ignored' });
    expect(await l.measure('r', 'f', true, ['accuracy'], 0, m)).toEqual({ accuracy: 0.5 });
    expect(await l.measure('r', 'f', true, ['accuracy'], 0, m)).toEqual({ accuracy: 0.5 });
    expect(calls).toBe(1);
    expect(await l.measure('r', 'f', false, ['accuracy'], 0, m)).toEqual({ accuracy: 1.5 });
    await expect(l.measure('s', 'f', true, ['missing'], 0, m)).rejects.toThrow(/no number 'missing'/);
  });

  it('with trainOnly, trains just the named runs and leaves the other unrecorded ones at zero', async () => {
    const dir = tmp();
    RunLedger.inDir(dir).put('done', 'f', { accuracy: 0.7 });
    const l = RunLedger.inDir(dir, { trainOnly: new Set(['mine']) });
    const trained: string[] = [];
    const m = (key: string) => async () => (trained.push(key), { accuracy: 0.9 });
    expect(await l.measure('other', 'f', true, ['accuracy'], 0, m('other'))).toEqual({ accuracy: 0 });
    expect(await l.measure('done', 'f', true, ['accuracy'], 0, m('done'))).toEqual({ accuracy: 0.7 });
    expect(await l.measure('mine', 'f', true, ['accuracy'], 0, m('mine'))).toEqual({ accuracy: 0.9 });
    expect(trained).toEqual(['mine']);
    expect(RunLedger.inDir(dir).keys().sort()).toEqual(['done', 'mine']);
  });

  it('names the file and the fix when the ledger is damaged', () => {
    const dir = tmp();
    writeFileSync(join(dir, RUN_LEDGER_FILE), '{"version":1,"runs":');
    expect(() => RunLedger.inDir(dir)).toThrow(new RegExp(`${RUN_LEDGER_FILE}: not valid JSON.*restore it from git or delete it`));
    writeFileSync(join(dir, RUN_LEDGER_FILE), '{"runs":[]}');
    expect(() => RunLedger.inDir(dir)).toThrow(/not a run ledger/);
  });

  it('a fresh work folder (new machine) reuses the finished runs instead of retraining them', async () => {
    const out = tmp();
    const work1 = tmp();
    const opts = { quick: true, seeds: 1, outDir: out, workDir: work1, resume: true };
    const first = await marginsExperiment(opts);
    expect(existsSync(join(work1, 'margins'))).toBe(true);
    expect(RunLedger.inDir(join(out, 'margins')).keys().sort()).toEqual(['arcface-s2048', 'combined-s2048', 'cosface-s2048', 'softmax-s2048']);
    rmSync(work1, { recursive: true });
    const work2 = tmp();
    const second = await marginsExperiment({ ...opts, workDir: work2 });
    expect(existsSync(join(work2, 'margins'))).toBe(false); // nothing trained
    expect(second.tables).toEqual(first.tables);
    expect(second.findings).toEqual(first.findings);

    // --plan: with 2 seeds, the seed-2048 runs are recorded and the seed-2049 ones are still to train; nothing is
    // trained or written to the report folder
    const results = readFileSync(join(out, 'margins', 'results.json'), 'utf8');
    const plan = await planRepro({ quick: true, seeds: 2, only: ['margins', 'inversion'], out });
    expect(plan.runs.map((r) => `${r.key}:${r.recorded}`).sort()).toEqual(
      ['arcface', 'combined', 'cosface', 'softmax'].flatMap((h) => [`${h}-s2048:true`, `${h}-s2049:false`]),
    );
    expect(plan.runs.every((r) => r.experiment === 'margins' && r.images === 16 * 16 * QUICK_SIZES.epochs)).toBe(true);
    expect(plan.other).toEqual([{ experiment: 'inversion', status: 'not run yet' }]);
    expect(readFileSync(join(out, 'margins', 'results.json'), 'utf8')).toBe(results);
    expect(RunLedger.inDir(join(out, 'margins')).keys()).toHaveLength(4);
    // the recorded runs carry this checkout's commit; one version throughout, so no note
    expect(plan.runs.filter((r) => r.recorded).every((r) => isCommitOfThisRepo(r.code?.commit))).toBe(true);
    expect(plan.versionNotes).toEqual([]);
    const ledgerPath = join(out, 'margins', RUN_LEDGER_FILE);
    const ledger = JSON.parse(readFileSync(ledgerPath, 'utf8'));
    delete ledger.runs['softmax-s2048'].code; // as if recorded before versions were kept
    writeFileSync(ledgerPath, JSON.stringify(ledger));
    const mixed = await planRepro({ quick: true, seeds: 2, only: ['margins'], out });
    expect(mixed.versionNotes).toEqual([expect.stringMatching(/^margins: 3 entries from numerics v1, 1 from unknown \(recorded before versions were kept\)/)]);
  }, 600_000);
});

describe('code version of ledger entries', () => {
  it('reads the commit from .git as git rev-parse HEAD does: loose and packed refs, detached HEAD, worktrees', () => {
    const dir = tmp();
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'config', 'user.email', 't@example.com');
    git(dir, 'config', 'user.name', 't');
    writeFileSync(join(dir, 'a.txt'), 'one\n');
    git(dir, 'add', 'a.txt');
    git(dir, 'commit', '-q', '-m', 'one');
    expect(readGitCommit(join(dir))).toBe(git(dir, 'rev-parse', 'HEAD'));
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    git(dir, 'commit', '-q', '-am', 'two');
    git(dir, 'pack-refs', '--all');
    expect(existsSync(join(dir, '.git', 'refs', 'heads', 'main'))).toBe(false);
    expect(readGitCommit(dir)).toBe(git(dir, 'rev-parse', 'HEAD'));
    const v = codeVersionAt(dir);
    expect(v).toEqual({ commit: git(dir, 'rev-parse', 'HEAD'), dirty: false, numerics: NUMERICS_VERSION });
    writeFileSync(join(dir, 'a.txt'), 'edited\n');
    expect(codeVersionAt(dir).dirty).toBe(true);
    git(dir, 'checkout', '-q', '--detach', 'HEAD~1', '--force');
    expect(readGitCommit(dir)).toBe(git(dir, 'rev-parse', 'HEAD'));
    const wt = join(tmp(), 'wt');
    git(dir, 'worktree', 'add', '-q', '-b', 'side', wt, 'main');
    writeFileSync(join(wt, 'a.txt'), 'three\n');
    git(wt, 'commit', '-q', '-am', 'three');
    expect(readGitCommit(join(wt))).toBe(git(wt, 'rev-parse', 'HEAD'));
    expect(readGitCommit(wt)).not.toBe(readGitCommit(dir));
    // not a checkout
    const bare = tmp();
    expect(readGitCommit(bare)).toBeUndefined();
    expect(codeVersionAt(bare)).toEqual({ commit: 'unknown', numerics: NUMERICS_VERSION });
  });

  it('every recorded entry carries the running code version; carried-over numbers do not claim it', () => {
    const dir = tmp();
    const l = RunLedger.inDir(dir);
    l.put('k', 'f', { accuracy: 0.9 });
    l.put('old', 'f', { accuracy: 0.8 }, 'carried over from an earlier report');
    const runs = JSON.parse(readFileSync(join(dir, RUN_LEDGER_FILE), 'utf8')).runs;
    expect(runs.k.code).toEqual(currentCodeVersion());
    expect(isCommitOfThisRepo(runs.k.code.commit)).toBe(true);
    expect(isCommitOfThisRepo('0'.repeat(40))).toBe(false);
    expect(runs.k.code.numerics).toBe(NUMERICS_VERSION);
    expect(typeof runs.k.code.dirty).toBe('boolean');
    expect(runs.old.code).toBeUndefined();
  });

  it('committed ledgers without versions still load (unknown); --plan flags an experiment mixing versions', async () => {
    const committed = join(repoRoot, 'docs', 'repro', 'full', 'margins', RUN_LEDGER_FILE);
    const before = readFileSync(committed, 'utf8');
    const plan: PlannedRun[] = [];
    const l = new RunLedger(committed, { plan: { experiment: 'margins', runs: plan } });
    const entries = JSON.parse(before).runs as Record<string, { fingerprint: string; code?: unknown }>;
    expect(Object.keys(entries).length).toBeGreaterThan(0);
    for (const [key, e] of Object.entries(entries)) {
      expect(e.code).toBeUndefined();
      await l.measure(key, e.fingerprint, true, ['accuracy'], 0, async () => ({ accuracy: 0 }));
    }
    expect(plan.every((r) => r.recorded && r.code === undefined)).toBe(true);
    expect(ledgerVersionNotes(plan)).toEqual([]); // all unknown: nothing mixes
    expect(readFileSync(committed, 'utf8')).toBe(before); // never rewritten

    const v1 = (commit: string, dirty = false) => ({ commit, dirty, numerics: 1 });
    const run = (experiment: string, key: string, code?: ReturnType<typeof v1> | { commit: string; numerics: number }): PlannedRun => ({ experiment, key, recorded: true, images: 1, ...(code ? { code } : {}) });
    const A = 'a'.repeat(40);
    const B = 'b'.repeat(40);
    const notes = ledgerVersionNotes([
      ...['s1', 's2', 's3'].map((k) => run('margins', k, v1(A))),
      ...['s4', 's5'].map((k) => run('margins', k)),
      { experiment: 'margins', key: 'todo', recorded: false, images: 1 }, // not recorded: not counted
      run('subcenter', 'x', v1(A)),
      run('subcenter', 'y', v1(B, true)),
      run('partial-fc', 'p', { commit: A, numerics: 2 }),
      run('partial-fc', 'q', v1(A)),
      run('contrastive', 'c', v1(A)),
      run('contrastive', 'd', v1(A)),
    ]);
    expect(notes).toEqual([
      'margins: 3 entries from numerics v1, 2 from unknown (recorded before versions were kept): numbers from different numerics versions may not be comparable; --restart retrains them all',
      'subcenter: 2 entries recorded at 2 commits (aaaaaaa ×1, bbbbbbb+dirty ×1), numerics v1',
      'partial-fc: 1 entry from numerics v1, 1 from numerics v2: numbers from different numerics versions may not be comparable; --restart retrains them all',
    ]);
  });
});
