import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-cli-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function facet(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, FACET_BACKEND: 'wasm' }, timeout: 120_000 });
  // oclif wraps error text at the terminal width with " ›   " continuation prefixes; unwrap for matching.
  return { ...r, stderr: r.stderr.replace(/\s*\n ›\s+/g, ' ') };
}

/** A float32 [rows, dim] .npy (format 1.0), written from the format description. */
function npy(path: string, rows: number, dim: number, value: (r: number, c: number) => number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const body = Buffer.alloc(4 * rows * dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) body.writeFloatLE(value(r, c), 4 * (r * dim + c));
  const len = Buffer.alloc(2);
  len.writeUInt16LE(header.length);
  writeFileSync(path, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), len, Buffer.from(header, 'latin1'), body]));
}

// 40 identities, 2 images each, 8-d: identity k lies along axis k % 8 with a small identity-specific tilt.
const ids = 40;
const dim = 8;
const value = (r: number, c: number) => {
  const k = Math.floor(r / 2);
  return (c === k % 8 ? 1 : 0) + (c === (k * 3 + 1) % 8 ? 0.3 * Math.floor(k / 8) : 0) + (r % 2) * 0.01 * c;
};

describe('facet eval --embeddings', () => {
  it('verifies a pairs index: prints the table, writes plots and results.json, and --json gives the numbers', () => {
    npy(join(dir, 'emb.npy'), 2 * ids, dim, value);
    // Genuine pairs: the two images of an identity. Impostors: identity k vs k+1 (different axes or tilts).
    const pairs = [];
    for (let k = 0; k < ids; k++) pairs.push([2 * k, 2 * k + 1, true], [2 * k, 2 * ((k + 1) % ids) + 1, false]);
    writeFileSync(join(dir, 'pairs.json'), JSON.stringify(pairs));
    const r = facet(['eval', '--embeddings', 'emb.npy', '--pairs-index', 'pairs.json', '--out', 'ev']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/set\s+pairs\s+accuracy %\s+folds\s+AUC\s+EER %\s+TAR@FAR=1e-3 %\s+best cos thr/);
    expect(r.stdout).toMatch(/emb\s+80\s+100\.00 ± 0\.00\s+10 contiguous\s+1\.0000\s+0\.00\s+n\/a/);
    expect(r.stdout).toMatch(/FAR 1e-3: needs ≥ 1000 impostor pairs, have 40/);
    for (const f of ['emb-roc.svg', 'emb-roc.png', 'emb-scores.svg', 'emb-scores.png', 'results.json']) expect(existsSync(join(dir, 'ev', f))).toBe(true);
    const saved = JSON.parse(readFileSync(join(dir, 'ev', 'results.json'), 'utf8'));
    expect(saved.verification[0].folds).toHaveLength(10);

    const j = facet(['eval', '--embeddings', 'emb.npy', '--pairs-index', 'pairs.json', '--out', 'ev2', '--no-plots', '--metric', 'cosine', '--json']);
    expect(j.status).toBe(0);
    const res = JSON.parse(j.stdout);
    expect(res.verification[0]).toMatchObject({ set: 'emb', pairs: 80, genuine: 40, impostor: 40, accuracy: 1, auc: 1, eer: 0, metric: 'cosine' });
    expect(res.plots).toEqual([]);
  });

  it('uses the fold ids of a pairs index and says so', () => {
    npy(join(dir, 'emb.npy'), 2 * ids, dim, value);
    const pairs = [];
    for (let k = 0; k < ids; k++) pairs.push([2 * k, 2 * k + 1, true, k % 4], [2 * k, 2 * ((k + 1) % ids) + 1, false, k % 4]);
    writeFileSync(join(dir, 'pairs-folds.json'), JSON.stringify(pairs));
    const r = facet(['eval', '--embeddings', 'emb.npy', '--pairs-index', 'pairs-folds.json', '--out', 'evf', '--no-plots']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/emb\s+80\s+100\.00 ± 0\.00\s+4 from file/);
    writeFileSync(join(dir, 'pairs-mixed.json'), JSON.stringify([[0, 1, true, 0], [0, 3, false]]));
    expect(facet(['eval', '--embeddings', 'emb.npy', '--pairs-index', 'pairs-mixed.json']).stderr).toMatch(/pair 1 has no fold id but pair 0 has one/);
  });

  it('identifies with the labels beside the .npy and draws a CMC', () => {
    npy(join(dir, 'ids.npy'), 2 * ids, dim, value);
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ labels: Array.from({ length: 2 * ids }, (_, r) => Math.floor(r / 2)) }));
    const r = facet(['eval', '--embeddings', 'ids.npy', '--out', 'ev3', '--json']);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.identification[0]).toMatchObject({ set: 'ids', probes: 40, galleryClasses: 40, rank1: 1, rank5: 1 });
    expect(existsSync(join(dir, 'ev3', 'ids-cmc.png'))).toBe(true);
  });

  it('explains missing inputs in one line', () => {
    const none = facet(['eval']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/nothing to evaluate: pass --bin/);
    const noModel = facet(['eval', '--bin', 'lfw.bin']);
    expect(noModel.stderr).toMatch(/pass the model folder/);
    expect(noModel.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(facet(['eval', 'some-model', '--pairs', 'pairs.txt']).stderr).toMatch(/--pairs needs --root/);
  });
});

describe('facet eval --low-res', () => {
  const onnx = fileURLToPath(new URL('../../../libs/onnx/test/fixtures/mfn_orig/mfn_orig_static1_convhead.onnx', import.meta.url));
  it('verifies the pair sets as if captured at PX pixels (named set@PXpx) and refuses a size above the input', () => {
    const r = facet(['eval', onnx, '--synthetic', '--synthetic-pairs', '40', '--low-res', '16', '--no-plots', '--json', '--out', 'lowres']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.verification.map((v: { set: string }) => v.set)).toEqual(['synthetic@16px']);
    const bad = facet(['eval', onnx, '--synthetic', '--low-res', '500', '--no-plots']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--low-res 500: must be a whole number of pixels from 1 to the model's input size 112/);
  });
});

