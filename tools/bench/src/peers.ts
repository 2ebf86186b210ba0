// Peers the bench compares Facet against, each found at run time and skipped with a message when absent:
// - PyTorch CPU (FACET_BENCH_TORCH=0 turns it off; FACET_PYTHON picks the interpreter; FACET_TORCH_THREADS sets its
//   OpenMP threads, default torch's own choice): a long-lived `python3 peers/torch_peer.py` (one JSON command per line) so that its repeats can be
//   interleaved with Facet's; Debian's python3-torch links the reference BLAS by default, so the peer is pointed
//   at Debian's OpenBLAS (LD_LIBRARY_PATH) with OPENBLAS_CORETYPE=SkylakeX, and reports what it actually mapped.
// - face-api (@vladmandic/face-api): its CommonJS node-wasm build requires '@tensorflow/tfjs', which is the very
//   module instance Facet's engine imports (Node shares the CJS module between import and require), so it runs on
//   Facet's own wasm engine in-process; `loadFaceApi` checks that instead of assuming it.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tf } from '@facet/sdk';

const here = dirname(fileURLToPath(import.meta.url));
/** tools/bench/peers, from src/ (vitest) or dist/ (npm run bench). */
export const PEERS_DIR = resolve(here, '..', 'peers');

const OPENBLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/openblas-pthread', '/usr/lib/x86_64-linux-gnu/openblas-openmp', '/usr/lib/x86_64-linux-gnu/openblas-serial'];

export interface TorchInfo {
  torch: string;
  python: string;
  threads: number;
  blas: string;
  loadedBlas: string[];
  openblasCoretype: string | null;
  mkldnn: boolean;
  executable: string;
}

type Reply = Record<string, unknown> & { ok: boolean; error?: string };

/** Candidates in order: $FACET_PYTHON, python3 on PATH, Debian's /usr/bin/python3 (where apt's python3-torch lives). */
function pythonCandidates(): string[] {
  const list = [process.env.FACET_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  return [...new Set(list)];
}

function peerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE ?? 'SkylakeX' };
  const blas = OPENBLAS_DIRS.find((d) => existsSync(join(d, 'libblas.so.3')));
  if (blas) env.LD_LIBRARY_PATH = [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  if (process.env.FACET_TORCH_THREADS) env.OMP_NUM_THREADS = process.env.FACET_TORCH_THREADS;
  return env;
}

export class TorchPeer {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    readonly executable: string,
  ) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }

  /** Start the peer, or return why it cannot run (no python3 with torch). */
  static async start(): Promise<TorchPeer | { skipped: string }> {
    if (process.env.FACET_BENCH_TORCH === '0') return { skipped: 'PyTorch peer skipped: FACET_BENCH_TORCH=0' };
    const tried: string[] = [];
    for (const py of pythonCandidates()) {
      const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', env: peerEnv(), timeout: 120_000 });
      if (probe.status === 0) {
        const proc = spawn(py, [join(PEERS_DIR, 'torch_peer.py')], { env: peerEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
        let stderr = '';
        proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
        const peer = new TorchPeer(proc, py);
        const first = await peer.lines.next();
        if (first.done) return { skipped: `PyTorch peer (${py}) exited at start: ${stderr.trim().split('\n').at(-1) ?? ''}` };
        return peer;
      }
      tried.push(`${py}: ${probe.error ? (probe.error as NodeJS.ErrnoException).code : (probe.stderr ?? '').trim().split('\n').at(-1)}`);
    }
    return { skipped: `PyTorch peer skipped: no python3 can 'import torch' (${tried.join('; ')}). Install it with apt-get install python3-torch.` };
  }

  async request(cmd: Record<string, unknown>): Promise<Reply> {
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    const next = await this.lines.next();
    if (next.done) throw new Error(`PyTorch peer exited during ${String(cmd.cmd)}`);
    const reply = JSON.parse(next.value) as Reply;
    if (!reply.ok) throw new Error(`PyTorch peer ${String(cmd.cmd)}: ${reply.error}`);
    return reply;
  }

  /** Seconds of one timed command (the peer times itself; the pipe round trip is not counted). */
  async seconds(cmd: Record<string, unknown>): Promise<number> {
    return (await this.request(cmd)).seconds as number;
  }

  async info(): Promise<TorchInfo> {
    const r = await this.request({ cmd: 'info' });
    return { ...(r as unknown as TorchInfo), executable: this.executable };
  }

  async close(): Promise<void> {
    this.proc.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
    await new Promise<void>((res) => {
      if (this.proc.exitCode !== null) res();
      else this.proc.once('exit', () => res());
    });
  }
}

export function describeTorch(i: TorchInfo): string {
  const blas = /BLAS_INFO=([^,]+)/.exec(i.blas)?.[1] ?? '?';
  const cap = /CPU capability usage: ([A-Z0-9_]+)/.exec(i.blas)?.[1] ?? '?';
  const mapped = i.loadedBlas.map((p) => p.split('/').slice(-2).join('/')).join(', ') || 'none mapped';
  return `PyTorch ${i.torch} (${i.executable}, Python ${i.python}), ${i.threads} thread(s), CPU capability ${cap}, mkldnn ${i.mkldnn ? 'on' : 'off'}, built with BLAS_INFO=${blas}, BLAS mapped: ${mapped}, OPENBLAS_CORETYPE=${i.openblasCoretype ?? 'unset'}`;
}

/** The parts of face-api the bench uses. */
export interface FaceApi {
  recognitionNet: { forwardInput(input: unknown): tf.Tensor2D; params?: Record<string, unknown> };
  toNetInput(input: tf.Tensor3D[]): Promise<unknown>;
  version: string;
  /** Multiply-add ×2 of one 150×150 forward, counted from the loaded weights. */
  flopsPerImage: number;
}

interface ConvLayer {
  conv: { filters: tf.Tensor4D };
}

/**
 * face-api's FaceRecognitionNet (a ResNet-34-like dlib network, 150×150 input, 128-d descriptor) from the npm
 * package's own weight files, on Facet's engine; or why it cannot run.
 */
export async function loadFaceApi(): Promise<FaceApi | { skipped: string }> {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  let api: Record<string, unknown>;
  try {
    pkgDir = dirname(require.resolve('@vladmandic/face-api/package.json'));
    api = require(join(pkgDir, 'dist', 'face-api.node-wasm.js')) as Record<string, unknown>;
  } catch (e) {
    return { skipped: `face-api skipped: @vladmandic/face-api not loadable (${(e as Error).message.split('\n')[0]})` };
  }
  const theirTf = api.tf as typeof tf | undefined;
  if (!theirTf || theirTf.engine() !== tf.engine()) {
    return { skipped: 'face-api skipped: it loaded a second tfjs engine instead of sharing Facet’s (the comparison would not be on the same backend)' };
  }
  const nets = api.nets as Record<string, { loadFromDisk(dir: string): Promise<void>; params?: Record<string, unknown> }>;
  const net = nets.faceRecognitionNet!;
  await net.loadFromDisk(join(pkgDir, 'model'));
  const version = (require(join(pkgDir, 'package.json')) as { version: string }).version;
  return {
    recognitionNet: net as unknown as FaceApi['recognitionNet'],
    toNetInput: api.toNetInput as FaceApi['toNetInput'],
    version,
    flopsPerImage: faceApiFlops(net.params as Record<string, unknown>),
  };
}

/**
 * 2 × multiply-adds of FaceRecognitionNet.forwardInput at 150×150, following its layer sequence: 7×7/2 'valid' conv,
 * 3×3/2 max-pool, residual blocks of two 3×3 'same' convs, down blocks whose first conv is 3×3/2 'valid', a final
 * 128-d matmul. Filter shapes come from the loaded weights.
 */
function faceApiFlops(params: Record<string, unknown>): number {
  let size = 150;
  let flops = 0;
  const conv = (l: ConvLayer, stride: number, valid: boolean) => {
    const [kh, kw, cin, cout] = l.conv.filters.shape;
    size = valid ? Math.floor((size - kh) / stride) + 1 : Math.ceil(size / stride);
    flops += 2 * size * size * kh * kw * cin * cout;
  };
  conv(params.conv32_down as ConvLayer, 2, true);
  size = Math.floor((size - 3) / 2) + 1;
  const names = ['conv32_1', 'conv32_2', 'conv32_3', 'conv64_down', 'conv64_1', 'conv64_2', 'conv64_3', 'conv128_down', 'conv128_1', 'conv128_2', 'conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out'];
  for (const n of names) {
    const block = params[n] as { conv1: ConvLayer; conv2: ConvLayer };
    conv(block.conv1, n.includes('down') ? 2 : 1, n.includes('down'));
    conv(block.conv2, 1, false);
  }
  const fc = params.fc as tf.Tensor2D;
  flops += 2 * fc.shape[0] * fc.shape[1];
  return flops;
}
