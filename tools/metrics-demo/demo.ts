// Demonstration of @facet/metrics on a procedural image set (Huang, Yi, Zhao, ICLR 2023):
//  1. a richer augmentation family sharpens the concentration of augmented data (σ(δ) up, 1-σ down), measured in
//     input space (as in the paper's Def. 1) and in the embedding space of a random network;
//  2. across several quickly trained models, nearest-centre accuracy moves with alignment and centre divergence.
// Run: tools/metrics-demo/run.sh  (bundles this file with esbuild and runs it on the wasm engine).
import { writeFileSync } from 'node:fs';
import { initEngine, mulberry32 as rng, tf } from '@facet/engine';
import { concentrationFromViews, infoNCE, measureEmbeddings, type EmbeddingMatrix } from '@facet/metrics';

const S = 16; // image side
const K = 8; // classes
const PIX = S * S * 3;

const uniform = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();

/** Each class: three coloured Gaussian blobs at fixed positions. */
interface Blob {
  x: number;
  y: number;
  s: number;
  c: [number, number, number];
}
const r0 = rng(1234);
const prototypes: Blob[][] = Array.from({ length: K }, () =>
  Array.from({ length: 3 }, () => ({ x: uniform(r0, 4, 12), y: uniform(r0, 4, 12), s: uniform(r0, 1.5, 3), c: [r0(), r0(), r0()] as [number, number, number] })),
);

/** A photometric + geometric state: image = contrast·blobs(shifted) + brightness (+ pixel noise). */
interface Pose {
  dx: number;
  dy: number;
  contrast: number;
  brightness: number;
}

function render(k: number, pose: Pose, noise: number, r: () => number, out: Float32Array, offset: number): void {
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const px = [0, 0, 0];
      for (const b of prototypes[k]!) {
        const g = Math.exp(-((x - b.x - pose.dx) ** 2 + (y - b.y - pose.dy) ** 2) / (2 * b.s * b.s));
        for (let c = 0; c < 3; c++) px[c]! += g * b.c[c]!;
      }
      for (let c = 0; c < 3; c++) out[offset + (y * S + x) * 3 + c] = pose.contrast * px[c]! + pose.brightness + noise * (r() * 2 - 1);
    }
  }
}

/** The nuisance that makes images of a class differ (what augmentation has to bridge). */
function instancePose(r: () => number): Pose {
  return { dx: uniform(r, -3, 3), dy: uniform(r, -3, 3), contrast: uniform(r, 0.8, 1.25), brightness: uniform(r, -0.15, 0.15) };
}

/**
 * Augmentation family of strength s: shifts up to 4s px, contrast ×[1-0.3s, 1+0.3s], brightness ±0.2s.
 * The families are nested (s < s' ⇒ A_s ⊆ A_s'), which is what Huang et al.'s "richer augmentation" means.
 */
function augment(p: Pose, s: number, r: () => number): Pose {
  return {
    dx: p.dx + uniform(r, -4 * s, 4 * s),
    dy: p.dy + uniform(r, -4 * s, 4 * s),
    contrast: p.contrast * uniform(r, 1 - 0.3 * s, 1 + 0.3 * s),
    brightness: p.brightness + uniform(r, -0.2 * s, 0.2 * s),
  };
}

interface ImageSet {
  labels: number[];
  poses: Pose[];
}
function imageSet(perClass: number, seed: number): ImageSet {
  const r = rng(seed);
  const labels: number[] = [];
  const poses: Pose[] = [];
  for (let k = 0; k < K; k++) for (let i = 0; i < perClass; i++) (labels.push(k), poses.push(instancePose(r)));
  return { labels, poses };
}

/** `views` augmented renders of every image, one pixel matrix per view. */
function renderViews(set: ImageSet, strength: number, views: number, seed: number): EmbeddingMatrix[] {
  const r = rng(seed);
  return Array.from({ length: views }, () => {
    const data = new Float32Array(set.labels.length * PIX);
    set.labels.forEach((k, i) => render(k, augment(set.poses[i]!, strength, r), 0.02, r, data, i * PIX));
    return { data, dim: PIX };
  });
}

/** A small MLP encoder 768 → 128 → 32 (He-uniform init from a seed). */
function encoder(seed: number) {
  const r = rng(seed);
  const init = (rows: number, cols: number) =>
    tf.variable(tf.tensor2d(Float32Array.from({ length: rows * cols }, () => uniform(r, -1, 1) * Math.sqrt(6 / rows)), [rows, cols]));
  const vars = [init(PIX, 128), tf.variable(tf.zeros([128])), init(128, 32)];
  const apply = (x: tf.Tensor2D) => tf.tidy(() => tf.matMul(tf.relu(tf.add(tf.matMul(x, vars[0]!), vars[1]!)), vars[2]!) as tf.Tensor2D);
  const embed = (m: EmbeddingMatrix): EmbeddingMatrix => {
    const x = tf.tensor2d(m.data, [m.data.length / PIX, PIX]);
    const z = apply(x);
    const data = z.dataSync() as Float32Array;
    tf.dispose([x, z]);
    return { data: Float32Array.from(data), dim: 32 };
  };
  return { vars, apply, embed, dispose: () => tf.dispose(vars) };
}

/** InfoNCE training on two augmented views (label-free). */
function train(enc: ReturnType<typeof encoder>, steps: number, strength: number, seed: number): number {
  const opt = tf.train.adam(1e-3);
  const r = rng(seed);
  const batch = 64;
  let last = NaN;
  for (let step = 0; step < steps; step++) {
    const set: ImageSet = { labels: [], poses: [] };
    for (let i = 0; i < batch; i++) (set.labels.push(Math.floor(r() * K)), set.poses.push(instancePose(r)));
    const [a, b] = renderViews(set, strength, 2, Math.floor(r() * 2 ** 31));
    const x1 = tf.tensor2d(a!.data, [batch, PIX]);
    const x2 = tf.tensor2d(b!.data, [batch, PIX]);
    const loss = opt.minimize(() => infoNCE(enc.apply(x1), enc.apply(x2), { temperature: 0.2 }), true, enc.vars as tf.Variable[]);
    last = loss!.dataSync()[0]!;
    tf.dispose([x1, x2, loss!]);
  }
  opt.dispose();
  return last;
}

const fmt = (v: number) => v.toFixed(3);

await initEngine({ backend: 'wasm' });
const t0 = performance.now();
const results: Record<string, unknown> = {};

// ---- 1. augmentation strength vs concentration ----
const probe = imageSet(20, 7); // 160 images
const strengths = [0, 0.25, 0.5, 1];
// δ in input units: fractions of the median distance between two clean images of the same class
const clean = renderViews(probe, 0, 1, 3)[0]!;
const same: number[] = [];
for (let i = 0; i < probe.labels.length; i++) {
  for (let j = i + 1; j < probe.labels.length; j++) {
    if (probe.labels[i] !== probe.labels[j]) continue;
    let s = 0;
    for (let p = 0; p < PIX; p++) s += (clean.data[i * PIX + p]! - clean.data[j * PIX + p]!) ** 2;
    same.push(Math.sqrt(s));
  }
}
same.sort((a, b) => a - b);
const median = same[Math.floor(same.length / 2)]!;
const pixelDeltas = [0.5, 0.75, 1].map((f) => f * median);
const randomNet = encoder(99);
const embedDeltas = [0.2, 0.4, 0.6];
const conc: Record<string, unknown>[] = [];
console.log(`\n1. Concentration vs augmentation strength (${probe.labels.length} images, ${K} classes; pixel δ in units of the median same-class distance ${fmt(median)})`);
console.log('strength  views  1-σ pixel δ=.5/.75/1 (worst class)   1-σ pixel (all samples)   1-σ random-net δ=.2/.4/.6 (worst class)');
for (const views of [32, 8, 2]) {
  for (const s of strengths) {
    const rendered = renderViews(probe, s, views, 100 + Math.round(s * 100));
    const px = concentrationFromViews(rendered, probe.labels, { normalize: false, deltas: pixelDeltas });
    const em = concentrationFromViews(rendered.map(randomNet.embed), probe.labels, { deltas: embedDeltas });
    const row = {
      strength: s,
      views,
      pixelOneMinusSigma: px.sigma.map((x) => 1 - x),
      pixelOneMinusMeanSigma: px.meanSigma.map((x) => 1 - x),
      embeddingOneMinusSigma: em.sigma.map((x) => 1 - x),
    };
    conc.push(row);
    console.log(
      `${String(s).padEnd(8)}  ${String(views).padEnd(5)}  ${row.pixelOneMinusSigma.map(fmt).join(' / ').padEnd(34)}  ${row.pixelOneMinusMeanSigma.map(fmt).join(' / ').padEnd(24)}  ${row.embeddingOneMinusSigma.map(fmt).join(' / ')}`,
    );
  }
}
results.concentration = { medianSameClassPixelDistance: median, pixelDeltas, embedDeltas, rows: conc };
randomNet.dispose();

// ---- 2. trained models: accuracy vs alignment and divergence ----
const heldOut = imageSet(25, 8); // 200 images, unseen poses
const configs = [
  { name: 'random init', steps: 0, strength: 1 },
  { name: 'no augmentation, 300 steps', steps: 300, strength: 0 },
  { name: 'weak aug (0.25), 300 steps', steps: 300, strength: 0.25 },
  { name: 'strong aug (1), 30 steps', steps: 30, strength: 1 },
  { name: 'strong aug (1), 100 steps', steps: 100, strength: 1 },
  { name: 'strong aug (1), 300 steps', steps: 300, strength: 1 },
];
const [h1, h2] = renderViews(heldOut, 0.5, 2, 555);
const models: Record<string, unknown>[] = [];
console.log(`\n2. InfoNCE-trained MLPs measured on ${heldOut.labels.length} held-out images (two views at strength 0.5)`);
console.log('model                          loss    align E||f1-f2||²  centre min L2  centre max cos  max µkᵀµl  σ(δ=.6)  NC acc');
for (const c of configs) {
  const enc = encoder(7);
  const loss = train(enc, c.steps, c.strength, 42);
  const r = await measureEmbeddings(enc.embed(h1!), enc.embed(h2!), heldOut.labels, { deltas: [0.2, 0.4, 0.6, 0.8] });
  enc.dispose();
  const row = {
    model: c.name,
    finalLoss: loss,
    alignment: r.alignment,
    uniformity: r.uniformity,
    minL2: r.divergence.minL2,
    maxPairwiseCosine: r.divergence.maxPairwiseCosine,
    meanPairwiseCosine: r.divergence.meanPairwiseCosine,
    maxInnerProduct: r.divergence.maxInnerProduct,
    sigma06: r.concentration.sigma[2],
    nearestCenterAccuracy: r.nearestCenter?.accuracy,
    boundHolds: r.bound.divergenceHolds,
    errorBound: r.bound.errorBound,
  };
  models.push(row);
  console.log(
    `${c.name.padEnd(29)}  ${Number.isNaN(loss) ? '  —  ' : fmt(loss)}   ${fmt(r.alignment).padEnd(17)}  ${fmt(r.divergence.minL2).padEnd(13)}  ${fmt(r.divergence.maxPairwiseCosine).padEnd(14)}  ${fmt(r.divergence.maxInnerProduct).padEnd(9)}  ${fmt(r.concentration.sigma[2]!).padEnd(7)}  ${fmt(r.nearestCenter!.accuracy)}`,
  );
}

/** Spearman rank correlation. */
function spearman(a: number[], b: number[]): number {
  const rank = (v: number[]) => {
    const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    order.forEach(([, i], k) => (r[i] = k));
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const d2 = ra.reduce((s, x, i) => s + (x - rb[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}
const acc = models.map((m) => m.nearestCenterAccuracy as number);
const corr = {
  accuracyVsAlignment: spearman(acc, models.map((m) => m.alignment as number)),
  accuracyVsMinL2: spearman(acc, models.map((m) => m.minL2 as number)),
  accuracyVsMaxCos: spearman(acc, models.map((m) => m.maxPairwiseCosine as number)),
};
console.log(
  `\nSpearman ρ over the ${models.length} models: accuracy vs alignment ${fmt(corr.accuracyVsAlignment)} (theory: negative), ` +
    `vs centre min L2 ${fmt(corr.accuracyVsMinL2)} (positive), vs centre max cosine ${fmt(corr.accuracyVsMaxCos)} (negative)`,
);
results.models = models;
results.spearman = corr;
const seconds = (performance.now() - t0) / 1000;
results.seconds = seconds;
writeFileSync(new URL('../results.json', import.meta.url), JSON.stringify(results, null, 1));
console.log(`\n${seconds.toFixed(0)} s; results in tools/metrics-demo/results.json`);
