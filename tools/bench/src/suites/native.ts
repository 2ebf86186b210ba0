// The native engine (@facet/native: oneDNN through an N-API addon, all cores) against the wasm engine (one thread)
// and PyTorch CPU (2 threads), IResNet-18 and MobileFaceNet at 112×112, batch 8: a training step (ArcFace over 1,000
// classes, SGD, as the training suite) and embedding extraction (BN folded, as the inference suite).
// Repeats interleave native, wasm and PyTorch so a change of load hits all three. Measured, never asserted.
import { createBackbone, initEngine, tf, type Backbone } from '@facet/sdk';
import { fmt, machineLoad, summarize, type BenchRow, type Suite } from '../harness.js';
import { kernelProfileTable, profileKernels } from '../kernel-profile.js';
import { describeTorch, TorchPeer } from '../peers.js';
import { facetTrainer } from './training.js';

const BATCH = 8;
const CLASSES = 1000;
const ENGINES = ['native', 'wasm'] as const;

function images(batch: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.randomNormal([batch, 112, 112, 3], 0, 0.5, 'float32', 5), -1, 1)) as tf.Tensor4D;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

export const nativeSuite: Suite = {
  name: 'native',
  description: `native (oneDNN) vs wasm vs PyTorch CPU (2 threads): training step and inference images/s, batch ${BATCH}, 112²`,
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
      await torch.request({ cmd: 'threads', n: 2 });
      sections.push(`Peer: ${describeTorch(await torch.info())}.`);
    } else sections.push(`PyTorch rows missing: ${(peer as { skipped: string }).skipped}`);
    const o = native.native!.onednn;
    sections.push(`Native: oneDNN ${o.version}, ISA ${o.isa}, ${o.threads} threads. wasm: one thread (XNNPACK + Facet's kernels).`);
    const repeats = quick ? 2 : 4;
    try {
      for (const name of ['iresnet18', 'mobilefacenet']) {
        for (const mode of ['train', 'infer'] as const) {
          // one network per engine, created on that engine (tfjs variables live on the backend that made them)
          const runs: Record<string, { fn: () => void; dispose: () => void; net: Backbone }> = {};
          for (const engine of ENGINES) {
            await initEngine({ backend: engine });
            if (mode === 'train') {
              const { net, trainer } = facetTrainer(name, BATCH);
              runs[engine] = { fn: trainer.step, dispose: () => (trainer.dispose(), net.dispose()), net };
            } else {
              const net = createBackbone(name);
              const x = images(BATCH);
              const fn = () => {
                const y = net.apply(x, { foldBatchNorm: true });
                y.dataSync();
                y.dispose();
              };
              runs[engine] = { fn, dispose: () => (x.dispose(), net.dispose()), net };
            }
          }
          if (torch) await torch.request({ cmd: 'model', name, batch: BATCH, train: mode === 'train', classes: CLASSES });
          const torchRun = () => torch!.seconds({ cmd: mode === 'train' ? 'train_step' : 'forward' });
          const samples: Record<string, number[]> = { native: [], wasm: [], torch: [] };
          for (let i = -1; i < repeats; i++) {
            for (const engine of ENGINES) {
              await initEngine({ backend: engine });
              const s = time(runs[engine]!.fn);
              if (i >= 0) samples[engine]!.push(s);
            }
            if (torch) {
              const s = await torchRun();
              if (i >= 0) samples.torch!.push(s);
            }
          }
          if (mode === 'train') {
            await initEngine({ backend: 'native' });
            const profile = await profileKernels(runs.native!.fn);
            sections.push(`### ${name}: where a native training step goes (batch ${BATCH}, ${profile.stepSeconds.toFixed(2)} s, ${machineLoad()})\n\n${kernelProfileTable(profile, 16)}`);
          }
          const gflop = runs.native!.net.flopsPerImage() / 1e9;
          for (const engine of ENGINES) await initEngine({ backend: engine }).then(() => runs[engine]!.dispose());
          const n = summarize(samples.native!);
          const w = summarize(samples.wasm!);
          const t = torch ? summarize(samples.torch!) : undefined;
          const flopPerStep = (mode === 'train' ? 3 : 1) * gflop * BATCH;
          const label = `${name} ${mode === 'train' ? 'training step' : 'inference (BN folded)'}, batch ${BATCH}`;
          rows.push({
            suite: 'native', case: label, metric: 'img/s, native vs wasm', facet: BATCH / n.median, facetMin: BATCH / n.min,
            baseline: BATCH / w.median, baselineMin: BATCH / w.min, baselineName: 'wasm (1 thread), interleaved', ratio: w.median / n.median,
            note: `native ≈${fmt(flopPerStep / n.median)} effective GFLOP/s, wasm ≈${fmt(flopPerStep / w.median)}`,
          });
          if (t) {
            rows.push({
              suite: 'native', case: label, metric: 'img/s, native vs PyTorch', facet: BATCH / n.median, facetMin: BATCH / n.min,
              baseline: BATCH / t.median, baselineMin: BATCH / t.min, baselineName: 'PyTorch CPU (2 threads), interleaved', ratio: t.median / n.median,
              note: `PyTorch ≈${fmt(flopPerStep / t.median)} effective GFLOP/s`,
            });
          }
          console.log(`  ${label}: native ${fmt(BATCH / n.median)}, wasm ${fmt(BATCH / w.median)}, PyTorch ${t ? fmt(BATCH / t.median) : 'skipped'} img/s (${machineLoad()})`);
        }
      }
    } finally {
      await torch?.close();
    }
    return { rows, sections };
  },
};
