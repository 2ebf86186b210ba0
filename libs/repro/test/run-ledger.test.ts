import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseConfig, marginsExperiment, planRepro, QUICK_SIZES, RunLedger, runFingerprint, RUN_LEDGER_FILE } from '../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'facet-ledger-'));

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
  }, 600_000);
});
