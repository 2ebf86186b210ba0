// insightface files through the CLI as the README shows them: import a PyTorch checkpoint, embed with ONNX Runtime
// and with tfjs (same embeddings), export .pth/.onnx/.safetensors and import the .pth back (same weights),
// fine-tune from the file with a frozen stem, and one clear line for a damaged file.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const fixture = fileURLToPath(new URL('../../../libs/interop/test/fixtures/ir_tiny_ddp.pth', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'facet-cli-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function facet(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, FACET_BACKEND: 'wasm', XDG_CACHE_HOME: join(dir, 'cache') },
    timeout: 240_000,
  });
  return { ...r, stderr: r.stderr.replace(/\s*\n ›\s+/g, ' ') };
}

function npyRows(path: string): Float32Array {
  const b = readFileSync(path);
  const headerLength = b.readUInt16LE(8);
  return new Float32Array(b.buffer.slice(b.byteOffset + 10 + headerLength, b.byteOffset + b.byteLength));
}

beforeAll(() => {
  copyFileSync(fixture, join(dir, 'r18.pth'));
  const s = facet(['data', 'synth', 'faces', '--identities', '4', '--images', '4', '--size', '32']);
  expect(s.status, s.stderr).toBe(0);
}, 120_000);

describe('facet import / export / --runtime / train --init', () => {
  it('imports, embeds in ONNX Runtime and tfjs alike, exports and re-imports bit-exactly', () => {
    const imp = facet(['import', 'r18.pth', '--out', 'r18']);
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/iresnet18/);
    const ort = facet(['embed', 'r18', 'faces', '-o', 'e-ort', '--json']);
    const tfjs = facet(['embed', 'r18', 'faces', '-o', 'e-tfjs', '--runtime', 'tfjs', '--json']);
    expect(ort.status, ort.stderr).toBe(0);
    expect(tfjs.status, tfjs.stderr).toBe(0);
    expect([JSON.parse(ort.stdout).runtime, JSON.parse(tfjs.stdout).runtime]).toEqual(['onnx', 'tfjs']);
    const a = npyRows(join(dir, 'e-ort', 'embeddings.npy'));
    const b = npyRows(join(dir, 'e-tfjs', 'embeddings.npy'));
    expect(a.length).toBe(b.length);
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);

    for (const [format, file] of [['pth', 'out.pth'], ['onnx', 'out.onnx'], ['safetensors', 'out.safetensors']]) {
      const e = facet(['export', 'r18', '--format', format!, '--out', file!]);
      expect(e.status, `${format}: ${e.stderr}`).toBe(0);
      expect(existsSync(join(dir, file!))).toBe(true);
    }
    expect(facet(['import', 'out.pth', '--out', 'back']).status).toBe(0);
    expect(readFileSync(join(dir, 'back', 'weights.bin')).equals(readFileSync(join(dir, 'r18', 'weights.bin')))).toBe(true);
    const onnxEmbed = facet(['embed', 'out.onnx', 'faces', '-o', 'e-onnx-file', '--json']);
    expect(onnxEmbed.status, onnxEmbed.stderr).toBe(0);
    const c = npyRows(join(dir, 'e-onnx-file', 'embeddings.npy'));
    expect(Math.max(...c.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);
  });

  it('fine-tunes from the .pth file with the stem frozen', () => {
    const t = facet(['train', '--init', 'r18.pth', '--freeze', 'conv1,bn1,prelu', '--dataset', 'faces', '--batch-size', '8', '--max-steps', '2', '--scale', '16', '--output', 'ft']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/--init .*r18.pth: iresnet18/);
    expect(t.stderr).not.toMatch(/Hi, looks like you are running TensorFlow.js/);
    const cfg = JSON.parse(readFileSync(join(dir, 'ft', 'config.json'), 'utf8'));
    expect([cfg.network, cfg.inputSize, cfg.embeddingSize, cfg.freeze]).toEqual(['iresnet18', 32, 16, ['conv1', 'bn1', 'prelu']]);
  });

  it('names a damaged file in one line', () => {
    writeFileSync(join(dir, 'broken.pth'), readFileSync(join(dir, 'r18.pth')).subarray(0, 500));
    const r = facet(['import', 'broken.pth']);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/broken.pth/);
  });
});
