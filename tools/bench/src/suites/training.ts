// Training throughput against PyTorch CPU on the same machine, same batch: IResNet-18 and MobileFaceNet at
// 112×112, batch 32, ArcFace (s = 64, m = 0.5) over 1,000 classes, SGD (lr 0.1, momentum 0.9, weight decay 5e-4).
// One step = forward + backward of backbone and head + the optimizer update, as insightface's train_v2.py does.
// Facet: wasm engine (one thread), fused BN gradient, head = PartialFC at rate 1 (the full FC), backbone optimizer
// = @facet/train's PyTorch-exact SGD. Batch 32 runs as accumulated chunks where it does not fit the 4 GiB wasm heap
// in one piece (tfjs keeps every intermediate gradient until the backward pass ends); the head takes one update per
// chunk (same cost as one per batch).
// Facet's and PyTorch's repeats are interleaved (the machine is shared, its load drifts). A per-kernel profile of
// one Facet chunk and PyTorch's per-op profile of one step show where the time goes.
import { createBackbone, initEngine, PartialFC, sgd, tf, type Backbone } from '@facet/sdk';
import { fmt, machineLoad, markdownTable, timeInterleaved, type BenchRow, type Suite } from '../harness.js';
import { kernelProfileTable, profileKernels } from '../kernel-profile.js';
import { describeTorch, TorchPeer } from '../peers.js';

const BATCH = 32;
const CLASSES = 1000;
const SIZE = 112;
/** Images per chunk that fit the wasm heap with room to spare (measured high-water marks in the backbones suite). */
const CHUNK: Record<string, number> = { iresnet18: 8, mobilefacenet: 16 };

interface FacetTrainer {
  step(): void;
  chunkStep(): void;
  dispose(): void;
  chunk: number;
}

/** `chunk`: images per forward/backward (default: what fits the wasm heap, CHUNK); the native engine takes the whole batch. */
export function facetTrainer(name: string, batch: number, chunkSize?: number): { net: Backbone; trainer: FacetTrainer } {
  const net = createBackbone(name);
  const vars = net.trainableVariables();
  const head = new PartialFC({ numClasses: CLASSES, embeddingSize: net.embeddingSize, sampleRate: 1, seed: 3 });
  const optimizer = sgd(vars, { momentum: 0.9, weightDecay: 5e-4 });
  const chunk = Math.min(batch, chunkSize ?? CHUNK[name] ?? 8);
  const n = Math.ceil(batch / chunk);
  const chunks = Array.from({ length: n }, (_, i) =>
    tf.tidy(() => tf.clipByValue(tf.randomNormal([Math.min(chunk, batch - i * chunk), SIZE, SIZE, 3], 0, 0.5, 'float32', 11 + i), -1, 1)),
  ) as tf.Tensor4D[];
  const labels = chunks.map((c, i) => Int32Array.from({ length: c.shape[0] }, (_, j) => (7919 * (i * chunk + j)) % CLASSES));
  const gradsOf = (i: number) => {
    const { value, grads } = tf.variableGrads(() => head.forward(net.apply(chunks[i]!, { training: true }), labels[i]!), vars);
    value.dispose();
    head.step(0.1);
    return grads;
  };
  const step = () => {
    let acc: Record<string, tf.Tensor> | undefined;
    for (let i = 0; i < n; i++) {
      const g = gradsOf(i);
      if (!acc) acc = g;
      else {
        const prev = acc;
        acc = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, tf.add(prev[k]!, v)]));
        tf.dispose([...Object.values(prev), ...Object.values(g)]);
      }
    }
    // mean over the whole batch: every chunk's loss is a mean over its own images
    const scaled = n > 1 ? tf.tidy(() => Object.fromEntries(Object.entries(acc!).map(([k, v]) => [k, tf.mul(v, 1 / n)]))) : acc!;
    optimizer.apply(scaled, 0.1);
    tf.dispose(Object.values(acc!));
    if (scaled !== acc) tf.dispose(Object.values(scaled));
    // the update is on the engine: block on one variable so the step's time is all spent
    vars[0]!.dataSync();
  };
  const chunkStep = () => {
    const g = gradsOf(0);
    optimizer.apply(g, 0.1);
    tf.dispose(Object.values(g));
    vars[0]!.dataSync();
  };
  return {
    net,
    trainer: {
      step,
      chunkStep,
      chunk,
      dispose: () => {
        tf.dispose(chunks);
        head.dispose();
        optimizer.dispose();
      },
    },
  };
}

function torchOpsTable(p: { totalSeconds: number; ops: Array<{ op: string; seconds: number; calls: number }> }): string {
  return markdownTable(
    ['op (PyTorch)', 'self s', 'share', 'calls'],
    p.ops.map((o) => [o.op, fmt(o.seconds), `${((100 * o.seconds) / p.totalSeconds).toFixed(1)} %`, o.calls]),
  );
}

export const trainingSuite: Suite = {
  name: 'training',
  description: `training images/s vs PyTorch CPU, same machine and batch (${BATCH}), ArcFace over ${CLASSES} classes, SGD`,
  async run({ quick }) {
    await initEngine({ backend: 'wasm' });
    const rows: BenchRow[] = [];
    const sections: string[] = [];
    const peer = await TorchPeer.start();
    if (!(peer instanceof TorchPeer)) {
      console.log(`  ${peer.skipped}`);
      sections.push(`PyTorch rows missing: ${peer.skipped}`);
    } else sections.push(`Peer: ${describeTorch(await peer.info())}.`);
    const torch = peer instanceof TorchPeer ? peer : undefined;
    const batch = quick ? 8 : BATCH;
    try {
      for (const name of ['mobilefacenet', 'iresnet18']) {
        const { net, trainer } = facetTrainer(name, batch);
        const gflop = net.flopsPerImage() / 1e9;
        try {
          // warm-up: one chunk (XNNPACK operator set-up, wasm heap growth), then one profiled chunk
          trainer.chunkStep();
          const profile = await profileKernels(() => trainer.chunkStep());
          console.log(`  ${name}: profiled chunk of ${trainer.chunk} in ${profile.stepSeconds.toFixed(1)} s`);
          sections.push(
            `### ${name}: where a Facet training step goes (one chunk of ${trainer.chunk} images, wasm, ${profile.stepSeconds.toFixed(1)} s, ${machineLoad()})\n\n${kernelProfileTable(profile)}`,
          );
          const repeats = quick ? 1 : 2;
          let torchSeconds: number[] = [];
          let facet: { median: number; min: number };
          if (torch) {
            await torch.request({ cmd: 'model', name, batch, train: true, classes: CLASSES });
            await torch.seconds({ cmd: 'train_step' }); // warm-up
            const t = await timeInterleaved(trainer.step, () => torch.seconds({ cmd: 'train_step' }), repeats, 0);
            facet = t.a;
            torchSeconds = t.b.samples;
            const prof = (await torch.request({ cmd: 'profile_train', top: 10 })) as unknown as Parameters<typeof torchOpsTable>[0];
            sections.push(`### ${name}: where a PyTorch training step goes (batch ${batch}, ${fmt(prof.totalSeconds)} s)\n\n${torchOpsTable(prof)}`);
            const tm = t.b;
            rows.push({
              suite: 'training',
              case: `${name} 112², batch ${batch} (${gflop.toFixed(2)} GFLOP/img fwd)`,
              metric: 'training img/s',
              facet: batch / facet.median,
              facetMin: batch / facet.min,
              baseline: batch / tm.median,
              baselineMin: batch / tm.min,
              baselineName: 'PyTorch CPU, same batch, interleaved',
              ratio: tm.median / facet.median,
              note: `Facet: wasm 1 thread, ${Math.ceil(batch / trainer.chunk)} chunk(s) of ${trainer.chunk}, ≈${fmt((3 * gflop * batch) / facet.median)} effective GFLOP/s (3× fwd); PyTorch ≈${fmt((3 * gflop * batch) / tm.median)} GFLOP/s`,
            });
          } else {
            const t = await timeInterleaved(trainer.step, () => NaN, repeats, 0);
            facet = t.a;
            rows.push({
              suite: 'training',
              case: `${name} 112², batch ${batch}`,
              metric: 'training img/s',
              facet: batch / facet.median,
              facetMin: batch / facet.min,
              baseline: NaN,
              baselineName: 'PyTorch CPU (skipped: not installed)',
              ratio: NaN,
            });
          }
          console.log(`  ${name}: Facet ${(batch / facet.median).toFixed(2)} img/s; PyTorch ${torchSeconds.map((s) => (batch / s).toFixed(2)).join(', ') || 'skipped'}`);
        } finally {
          trainer.dispose();
          net.dispose();
        }
      }
    } finally {
      await torch?.close();
    }
    return { rows, sections };
  },
};
