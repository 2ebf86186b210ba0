// Embedding extraction (inference) images/s: IResNet-18/50 and MobileFaceNet at 112×112, batch 1 and 64, on wasm,
// with BatchNorm folded into the convolutions and PReLU fused (apply(x, { foldBatchNorm: true })).
// Baselines measured in the same run, repeats interleaved:
// - Facet without folding (separate conv, BN and PReLU ops);
// - PyTorch CPU (eval mode, inference_mode) at the same batch, through the peer;
// - ONNX Runtime (inference-onnx.ts): Facet's exportOnnx files on every core vs PyTorch at the same threads;
// - face-api's pretrained FaceRecognitionNet (@vladmandic/face-api, 150×150 → 128-d, dlib's ResNet) on the same
//   wasm engine in the same process, compared per GFLOP since the networks differ in size.
import { createBackbone, initEngine, tf, type Backbone } from '@facet/sdk';
import { fmt, summarize, timeInterleaved, type BenchRow, type Suite, type Timing } from '../harness.js';
import { describeTorch, loadFaceApi, TorchPeer, type FaceApi } from '../peers.js';
import { onnxRuntimeRows } from './inference-onnx.js';

const MODELS = ['mobilefacenet', 'iresnet18', 'iresnet50'] as const;

function images(batch: number, size: number, scale = 0.5): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.randomNormal([batch, size, size, 3], 0, scale, 'float32', 5), -1, 1)) as tf.Tensor4D;
}

function facetForward(net: Backbone, x: tf.Tensor4D, foldBatchNorm: boolean): () => void {
  return () => {
    const y = net.apply(x, { foldBatchNorm });
    y.dataSync();
    y.dispose();
  };
}

/** face-api's own pipeline from decoded images: NetInput (batching, 150² check) → forwardInput → descriptors. */
async function faceApiForward(api: FaceApi, faces: tf.Tensor3D[]): Promise<void> {
  const input = await api.toNetInput(faces);
  const y = api.recognitionNet.forwardInput(input);
  y.dataSync();
  y.dispose();
}

async function timeAlone(fn: () => unknown | Promise<unknown>, repeats: number): Promise<Timing> {
  const s: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    s.push((performance.now() - t0) / 1000);
  }
  return summarize(s);
}

export const inferenceSuite: Suite = {
  name: 'inference',
  description: 'embedding extraction images/s at batch 1 and 64 vs PyTorch CPU, per GFLOP vs face-api’s recognition network, and ONNX Runtime (Facet’s exportOnnx) at batch 1, 8, 64 vs PyTorch at the same thread count',
  async run({ quick }) {
    await initEngine({ backend: 'wasm' });
    const rows: BenchRow[] = [];
    const sections: string[] = [];
    const peer = await TorchPeer.start();
    const torch = peer instanceof TorchPeer ? peer : undefined;
    if (torch) sections.push(`Peer: ${describeTorch(await torch.info())}.`);
    else sections.push(`PyTorch rows missing: ${(peer as { skipped: string }).skipped}`);
    const faceApi = await loadFaceApi();
    const api = 'skipped' in faceApi ? undefined : faceApi;
    if (!api) sections.push(`face-api rows missing: ${(faceApi as { skipped: string }).skipped}`);
    else {
      sections.push(
        `face-api ${api.version}: FaceRecognitionNet from the package's model/ files, 150×150 input, ${(api.flopsPerImage / 1e9).toFixed(2)} GFLOP/img (counted from its weights), on Facet's wasm engine in this process (face-api's node-wasm build requires the same '@tensorflow/tfjs' module instance).`,
      );
    }
    const batches = quick ? [1, 8] : [1, 64];
    const faceApiRate = new Map<number, Timing>();
    try {
      if (api) {
        for (const batch of batches) {
          const faces = Array.from({ length: batch }, (_, i) => tf.tidy(() => tf.randomUniform([150, 150, 3], 0, 255, 'float32', i)) as tf.Tensor3D);
          await faceApiForward(api, faces.slice(0, 1)); // warm-up
          const t = await timeAlone(() => faceApiForward(api, faces), batch === 1 ? 5 : quick ? 1 : 2);
          faceApiRate.set(batch, t);
          tf.dispose(faces);
          console.log(`  face-api batch ${batch}: ${(batch / t.median).toFixed(2)} img/s`);
        }
      }
      for (const name of MODELS) {
        if (quick && name === 'iresnet50') continue;
        const net = createBackbone(name);
        const gflop = net.flopsPerImage() / 1e9;
        try {
          if (torch) await torch.request({ cmd: 'model', name, batch: 1 });
          for (const batch of batches) {
            const x = images(batch, 112);
            const repeats = batch === 1 ? 5 : quick || name === 'iresnet50' ? 1 : 2;
            const run = facetForward(net, x, true);
            const plain = facetForward(net, x, false);
            run(); // warm-up at this shape (and the folded weights' first build)
            // the unfolded network (BN and PReLU as separate ops), interleaved with the folded one, where it costs
            // little time
            let unfolded: Timing | undefined;
            if (batch === 1 || name !== 'iresnet50') {
              plain();
              const seconds = () => {
                const t0 = performance.now();
                plain();
                return (performance.now() - t0) / 1000;
              };
              unfolded = (await timeInterleaved(run, seconds, repeats, 0)).b;
            }
            let facet: Timing;
            let base: Timing | undefined;
            if (torch) {
              await torch.request({ cmd: 'model', name, batch });
              const t = await timeInterleaved(run, () => torch.seconds({ cmd: 'forward' }), repeats, batch === 1 ? 1 : 0);
              facet = t.a;
              base = t.b;
            } else facet = await timeAlone(run, repeats);
            x.dispose();
            const img = (t: Timing) => ({ median: batch / t.median, min: batch / t.min });
            const f = img(facet);
            console.log(`  ${name} batch ${batch}: Facet ${f.median.toFixed(2)} img/s${base ? `, PyTorch ${(batch / base.median).toFixed(2)}` : ''}`);
            const caseName = `${name} 112² (${gflop.toFixed(2)} GFLOP/img), batch ${batch}`;
            rows.push({
              suite: 'inference',
              case: caseName,
              metric: 'embeddings/s',
              facet: f.median,
              facetMin: f.min,
              baseline: base ? batch / base.median : NaN,
              baselineMin: base ? batch / base.min : NaN,
              baselineName: base ? 'PyTorch CPU, eval + inference_mode, interleaved' : 'PyTorch CPU (skipped)',
              ratio: base ? base.median / facet.median : NaN,
              note: `Facet (BN folded, PReLU fused) ${fmt(f.median * gflop)} GFLOP/s${base ? `, PyTorch ${fmt((batch / base.median) * gflop)} GFLOP/s` : ''}`,
            });
            if (unfolded) {
              rows.push({
                suite: 'inference',
                case: caseName,
                metric: 'embeddings/s, BN folded + PReLU fused',
                facet: f.median,
                facetMin: f.min,
                baseline: batch / unfolded.median,
                baselineMin: batch / unfolded.min,
                baselineName: 'Facet without folding (conv, BN, PReLU as separate ops), same run',
                ratio: unfolded.median / facet.median,
              });
            }
            const fa = faceApiRate.get(batch);
            if (fa) {
              const faGflops = ((batch / fa.median) * api!.flopsPerImage) / 1e9;
              rows.push({
                suite: 'inference',
                case: caseName,
                metric: 'effective GFLOP/s',
                facet: f.median * gflop,
                facetMin: f.min * gflop,
                baseline: faGflops,
                baselineMin: ((batch / fa.min) * api!.flopsPerImage) / 1e9,
                baselineName: `face-api FaceRecognitionNet 150² (${(api!.flopsPerImage / 1e9).toFixed(2)} GFLOP/img), same engine`,
                ratio: (f.median * gflop) / faGflops,
                note: `face-api ${fmt(batch / fa.median)} img/s`,
              });
            }
          }
        } finally {
          net.dispose();
        }
      }
      // ONNX Runtime on every core vs PyTorch at the same thread count (inference-onnx.ts)
      const onnx = await onnxRuntimeRows(torch, quick);
      rows.push(...onnx.rows);
      sections.push(...onnx.sections);
    } finally {
      await torch?.close();
    }
    return { rows, sections };
  },
};
