// The native engine (@facet/native: oneDNN through an N-API addon, `FACET_NATIVE_THREADS` threads) against PyTorch
// CPU at the same thread count (2) and the wasm engine (one thread), the grid issue 22 asks for: a training step at
// batch 32, 112×112 (ArcFace over 1,000 classes, SGD, as the training suite) and embedding extraction (BN folded) at
// batch 1 and 64, for IResNet-18, IResNet-50 and MobileFaceNet. wasm runs where the training lib's memory estimate
// says its 4 GiB heap holds the step (otherwise its row says so) and with fewer repeats (it is 3–6× slower).
// Repeats interleave native, wasm and PyTorch so a change of load hits all three. Measured, never asserted.
import { createBackbone, estimateTrainingMemory, initEngine, PartialFC, tf, WASM_HEAP_BUDGET, type Backbone } from '@facet/sdk';
import { fmt, machineLoad, summarize, type BenchRow, type Suite } from '../harness.js';
import { kernelProfileTable, profileKernels } from '../kernel-profile.js';
import { describeTorch, TorchPeer } from '../peers.js';
import { facetTrainer } from './training.js';

const CLASSES = 1000;
const THREADS = 2;
type Engine = 'native' | 'wasm';

interface Case {
  name: string;
  mode: 'train' | 'infer';
  batch: number;
}

function grid(quick: boolean): Case[] {
  const nets = quick ? ['iresnet18', 'mobilefacenet'] : ['iresnet18', 'iresnet50', 'mobilefacenet'];
  const trainBatch = quick ? 8 : 32;
  const inferBatches = quick ? [1, 8] : [1, 64];
  return [
    ...nets.map((name) => ({ name, mode: 'train' as const, batch: trainBatch })),
    ...nets.flatMap((name) => inferBatches.map((batch) => ({ name, mode: 'infer' as const, batch }))),
  ];
}

function images(batch: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.randomNormal([batch, 112, 112, 3], 0, 0.5, 'float32', 5), -1, 1)) as tf.Tensor4D;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/** The training lib's estimate of a batch's engine memory (measured at batch 2 and 4, extrapolated), on the native engine. */
async function trainingBytes(name: string, batch: number): Promise<number> {
  await initEngine({ backend: 'native' });
  const net = createBackbone(name);
  const head = new PartialFC({ numClasses: CLASSES, embeddingSize: net.embeddingSize, sampleRate: 1, seed: 3 });
  try {
    const objective = { estimateEngineBytes: (b: number) => head.estimateMemory(b).engineBytes } as unknown as Parameters<typeof estimateTrainingMemory>[1];
    return (await estimateTrainingMemory(net, objective, batch, 112, false)).engineBytes;
  } finally {
    head.dispose();
    net.dispose();
  }
}

interface Run {
  fn: () => void;
  dispose: () => void;
  net: Backbone;
}

function makeRun(c: Case): Run {
  if (c.mode === 'train') {
    const { net, trainer } = facetTrainer(c.name, c.batch, c.batch);
    return { fn: trainer.step, dispose: () => (trainer.dispose(), net.dispose()), net };
  }
  const net = createBackbone(c.name);
  const x = images(c.batch);
  const fn = () => {
    const y = net.apply(x, { foldBatchNorm: true });
    y.dataSync();
    y.dispose();
  };
  return { fn, dispose: () => (x.dispose(), net.dispose()), net };
}

export const nativeSuite: Suite = {
  name: 'native',
  description: `native (oneDNN) vs PyTorch CPU (${THREADS} threads each) vs wasm (1 thread): training step at batch 32 and embeddings at batch 1 / 64, 112², IResNet-18/50, MobileFaceNet`,
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const sections: string[] = [];
    const native = await initEngine({ backend: 'native' }).catch((e: Error) => e);
    if (native instanceof Error) {
      console.log(`  ${native.message}`);
      return { rows, sections: [`native rows missing: ${native.message}`] };
    }
    const peer = await TorchPeer.start();
    const torch = peer instanceof TorchPeer ? peer : undefined;
    if (torch) {
      await torch.request({ cmd: 'threads', n: THREADS });
      sections.push(`Peer: ${describeTorch(await torch.info())}.`);
    } else sections.push(`PyTorch rows missing: ${(peer as { skipped: string }).skipped}`);
    const o = native.native!.onednn;
    if (o.threads !== THREADS) sections.push(`**Native ran on ${o.threads} threads, PyTorch on ${THREADS}**: set FACET_NATIVE_THREADS=${THREADS} for a same-thread comparison.`);
    sections.push(`Native: oneDNN ${o.version}, ISA ${o.isa}, ${o.threads} threads. wasm: one thread (XNNPACK + Facet's kernels).`);
    const repeats = quick ? 1 : 4;
    const wasmRepeats = quick ? 1 : 2;
    const table: string[][] = [];
    try {
      for (const c of grid(quick)) {
        const label = `${c.name} ${c.mode === 'train' ? 'training step' : 'embeddings (BN folded)'}, batch ${c.batch}`;
        // wasm only where its heap holds a training step (the estimate); inference activations are small
        let wasmNote: string | undefined;
        if (c.mode === 'train') {
          const bytes = await trainingBytes(c.name, c.batch);
          if (bytes > WASM_HEAP_BUDGET) wasmNote = `does not fit: estimate ${(bytes / 2 ** 30).toFixed(1)} GiB > the wasm heap's ${(WASM_HEAP_BUDGET / 2 ** 30).toFixed(1)} GiB budget`;
        }
        const engines: Engine[] = wasmNote ? ['native'] : ['native', 'wasm'];
        // one network per engine, created on that engine (tfjs variables live on the backend that made them)
        const runs: Partial<Record<Engine, Run>> = {};
        for (const engine of engines) {
          await initEngine({ backend: engine });
          runs[engine] = makeRun(c);
        }
        if (torch) await torch.request({ cmd: 'model', name: c.name, batch: c.batch, train: c.mode === 'train', classes: CLASSES });
        const torchRun = () => torch!.seconds({ cmd: c.mode === 'train' ? 'train_step' : 'forward' });
        const samples: Record<string, number[]> = { native: [], wasm: [], torch: [] };
        // i = -1: warm-up (primitive creation, XNNPACK set-up, heap growth)
        for (let i = -1; i < repeats; i++) {
          for (const engine of engines) {
            if (engine === 'wasm' && i >= wasmRepeats) continue;
            await initEngine({ backend: engine });
            const s = time(runs[engine]!.fn);
            if (i >= 0) samples[engine]!.push(s);
          }
          if (torch) {
            const s = await torchRun();
            if (i >= 0) samples.torch!.push(s);
          }
        }
        if (c.mode === 'train' && (!quick || c.name !== 'iresnet50')) {
          await initEngine({ backend: 'native' });
          const profile = await profileKernels(runs.native!.fn);
          // the kernels of this step that ran on tfjs's cpu (JavaScript) kernels, not the addon
          const fallback = new Set(native.native!.fallbackKernels);
          const js = profile.kernels.filter((k) => fallback.has(k.kernel));
          const jsSeconds = js.reduce((a, k) => a + k.seconds, 0);
          const jsLine = `On tfjs's cpu (JavaScript) kernels in this step: ${js.length ? js.map((k) => `${k.kernel} ${fmt(k.seconds * 1000)} ms`).join(', ') : 'none'} — ${((100 * jsSeconds) / profile.stepSeconds).toFixed(2)} % of the step.`;
          sections.push(`### ${c.name}: where a native training step goes (batch ${c.batch}, ${profile.stepSeconds.toFixed(2)} s, ${machineLoad()})\n\n${kernelProfileTable(profile, 16).replace('kernel (wasm)', 'kernel (native)')}\n\n${jsLine}`);
        }
        const gflop = runs.native!.net.flopsPerImage() / 1e9;
        for (const engine of engines) await initEngine({ backend: engine }).then(() => runs[engine]!.dispose());
        const flopPerStep = (c.mode === 'train' ? 3 : 1) * gflop * c.batch;
        const n = summarize(samples.native!);
        const t = torch ? summarize(samples.torch!) : undefined;
        const w = engines.includes('wasm') ? summarize(samples.wasm!) : undefined;
        const ips = (s: number) => fmt(c.batch / s);
        if (t) {
          rows.push({
            suite: 'native', case: label, metric: 'img/s, native vs PyTorch', facet: c.batch / n.median, facetMin: c.batch / n.min,
            baseline: c.batch / t.median, baselineMin: c.batch / t.min, baselineName: `PyTorch CPU (${THREADS} threads), interleaved`, ratio: t.median / n.median,
            note: `native ≈${fmt(flopPerStep / n.median)} effective GFLOP/s, PyTorch ≈${fmt(flopPerStep / t.median)}`,
          });
        }
        if (w) {
          rows.push({
            suite: 'native', case: label, metric: 'img/s, native vs wasm', facet: c.batch / n.median, facetMin: c.batch / n.min,
            baseline: c.batch / w.median, baselineMin: c.batch / w.min, baselineName: 'wasm (1 thread), interleaved', ratio: w.median / n.median,
            note: `wasm ≈${fmt(flopPerStep / w.median)} effective GFLOP/s`,
          });
        }
        table.push([
          label,
          `${ips(n.median)} (${ips(n.min)})`,
          t ? `${ips(t.median)} (${ips(t.min)})` : 'skipped',
          w ? `${ips(w.median)} (${ips(w.min)})` : (wasmNote ?? ''),
          t ? `${fmt(t.median / n.median)}×` : '',
          w ? `${fmt(w.median / n.median)}×` : '',
          machineLoad().replace('load average ', ''),
        ]);
        console.log(`  ${label}: native ${ips(n.median)}, PyTorch ${t ? ips(t.median) : 'skipped'}, wasm ${w ? ips(w.median) : wasmNote} img/s (${machineLoad()})`);
      }
    } finally {
      await torch?.close();
    }
    sections.unshift(
      [
        `### Images/s, median (best) of ${repeats} interleaved repeats (wasm ${wasmRepeats}), 112²`,
        '',
        `| case | native (${o.threads} threads) | PyTorch (${THREADS} threads) | wasm (1 thread) | native / PyTorch | native / wasm | load after |`,
        '|---|---:|---:|---:|---:|---:|---|',
        ...table.map((r) => `| ${r.join(' | ')} |`),
      ].join('\n'),
    );
    return { rows, sections };
  },
};
