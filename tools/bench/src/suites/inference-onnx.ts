// The inference suite's ONNX Runtime column: Facet's own exportOnnx of its randomly initialised IResNet-18/50 and
// MobileFaceNet (112², BN unfolded in the file; ORT fuses Conv+BN at load), run by onnxruntime-node on every core
// (@facet/onnx's loadOnnxModel: intraOpNumThreads = os.availableParallelism()), against PyTorch CPU set to the
// same thread count in the same run, repeats interleaved. ORT's time includes @facet/onnx's NHWC→NCHW transpose
// (what `embed` costs a caller); PyTorch gets its NCHW tensor ready-made.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { exportOnnx, loadOnnxModel } from '@facet/onnx';
import { createBackbone } from '@facet/sdk';
import { fmt, timeInterleaved, summarize, type BenchRow, type Timing } from '../harness.js';
import type { TorchPeer } from '../peers.js';

const MODELS = ['mobilefacenet', 'iresnet18', 'iresnet50'] as const;

function randomNhwc(n: number, size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n * size * size * 3 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

export async function onnxRuntimeRows(torch: TorchPeer | undefined, quick: boolean): Promise<{ rows: BenchRow[]; sections: string[] }> {
  const threads = os.availableParallelism();
  const rows: BenchRow[] = [];
  const sections: string[] = [];
  const dir = mkdtempSync(join(os.tmpdir(), 'facet-bench-onnx-'));
  const torchThreadsBefore = torch ? (await torch.info()).threads : 0;
  if (torch) await torch.request({ cmd: 'threads', n: threads });
  const batches = quick ? [1, 8] : [1, 8, 64];
  try {
    for (const name of MODELS) {
      if (quick && name === 'iresnet50') continue;
      const net = createBackbone(name);
      const gflop = net.flopsPerImage() / 1e9;
      const file = join(dir, `${name}.onnx`);
      await exportOnnx(net, file);
      net.dispose();
      // no spin-waiting after a run: PyTorch's timed forward follows at once on the same cores
      const model = await loadOnnxModel(file, { threads, allowSpinning: false });
      try {
        for (const batch of batches) {
          const x = randomNhwc(batch, 112, 17 + batch);
          const run = () => model.embed(x, batch);
          const repeats = batch === 1 ? 5 : batch === 8 ? 3 : name === 'iresnet50' ? 1 : 2;
          let ort: Timing;
          let base: Timing | undefined;
          if (torch) {
            await torch.request({ cmd: 'model', name, batch });
            const t = await timeInterleaved(run, () => torch.seconds({ cmd: 'forward' }), repeats, 1);
            ort = t.a;
            base = t.b;
          } else {
            await run();
            const s: number[] = [];
            for (let i = 0; i < repeats; i++) {
              const t0 = performance.now();
              await run();
              s.push((performance.now() - t0) / 1000);
            }
            ort = summarize(s);
          }
          const img = (t: Timing) => ({ median: batch / t.median, min: batch / t.min });
          const o = img(ort);
          console.log(`  ${name} batch ${batch}: ONNX Runtime ${o.median.toFixed(2)} img/s${base ? `, PyTorch ${(batch / base.median).toFixed(2)}` : ''} (${threads} threads)`);
          rows.push({
            suite: 'inference',
            case: `${name} 112² (${gflop.toFixed(2)} GFLOP/img), batch ${batch}`,
            metric: `embeddings/s, ONNX Runtime (Facet's exportOnnx), ${threads} threads`,
            facet: o.median,
            facetMin: o.min,
            baseline: base ? batch / base.median : NaN,
            baselineMin: base ? batch / base.min : NaN,
            baselineName: base ? `PyTorch CPU, ${threads} threads, eval + inference_mode, interleaved` : 'PyTorch CPU (skipped)',
            ratio: base ? base.median / ort.median : NaN,
            note: `ONNX Runtime ${fmt(o.median * gflop)} GFLOP/s${base ? `, PyTorch ${fmt((batch / base.median) * gflop)} GFLOP/s` : ''}`,
          });
        }
      } finally {
        await model.dispose();
      }
    }
    sections.push(
      `ONNX Runtime rows: onnxruntime-node (CPU execution provider, graph optimisation 'all', intraOpNumThreads ${threads} = os.availableParallelism(), no spin-waiting between runs) on files written by @facet/onnx's exportOnnx from Facet's randomly initialised backbones; PyTorch set to ${threads} threads for these rows only (restored to ${torchThreadsBefore} after). ORT's time includes the NHWC→NCHW transpose of the input.`,
    );
  } finally {
    if (torch) await torch.request({ cmd: 'threads', n: torchThreadsBefore });
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, sections };
}
