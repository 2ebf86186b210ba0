// Scale check: measureEmbeddings on N × 512 embeddings (default N = 100k, K = 1000 classes), printing the time
// and memory of every stage. Engine memory must return to 0 between stages (blocked tiles, no N×N matrix).
// Run: tools/metrics-demo/run.sh scale.ts   (N=20000 K=200 tools/metrics-demo/run.sh scale.ts for a quick one)
import { initEngine, tf } from '@facet/engine';
import { measureEmbeddings } from '@facet/metrics';

await initEngine({ backend: 'wasm' });
const N = Number(process.env.N ?? 100000);
const K = Number(process.env.K ?? 1000);
const D = 512;
let s = 1;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
const dirs = Float32Array.from({ length: K * D }, rnd);
const v1 = new Float32Array(N * D);
const v2 = new Float32Array(N * D);
const labels = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const k = i % K;
  labels[i] = k;
  for (let j = 0; j < D; j++) {
    const b = dirs[k * D + j]! + 0.8 * rnd();
    v1[i * D + j] = b + 0.3 * rnd();
    v2[i * D + j] = b + 0.3 * rnd();
  }
}
const gib = () => (process.memoryUsage().rss / 2 ** 30).toFixed(2);
console.log(`N=${N} D=${D} K=${K}; inputs ${((2 * N * D * 4) / 2 ** 30).toFixed(2)} GiB, rss ${gib()} GiB`);
const t0 = performance.now();
let last = t0;
let stageName = 'start';
const report = await measureEmbeddings({ data: v1, dim: D }, { data: v2, dim: D }, labels, {
  onProgress: (stage) => {
    const now = performance.now();
    if (stageName !== 'start') {
      console.log(`${stageName.padEnd(15)} ${((now - last) / 1000).toFixed(1).padStart(6)} s   rss ${gib()} GiB   engine ${(tf.memory().numBytes / 2 ** 20).toFixed(1)} MiB`);
    }
    stageName = stage;
    last = now;
  },
});
console.log(
  `total ${((performance.now() - t0) / 1000).toFixed(1)} s; alignment ${report.alignment.toFixed(4)}, uniformity ${report.uniformity.toFixed(4)} ` +
    `(${report.uniformityPoints} points/view), nearest-centre accuracy ${report.nearestCenter?.accuracy.toFixed(4)}`,
);
