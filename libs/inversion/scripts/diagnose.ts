// Why did `facet invert <model> --random N` barely move? Measurements behind docs/inversion/README.md (issue 25).
// Phases (env PHASES, default all):
//   targets: where do random targets lie relative to the faces the model can produce (H1: no optimisation)
//   grad:    the identity term against the BN prior at the start: values and gradient norms w.r.t. the pixels (H2)
//   levels:  the verifier's genuine / impostor levels on real faces (held-out synthetic identities)
//   runs:    short inversions under named configurations (env CONFIGS, STEPS, TARGETS)
// Run: libs/inversion/scripts/run.sh diagnose.ts runs/qs-inv runs/qs-inv-verifier   (results: $OUT/diagnose.json)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBackbone, type Backbone } from '@facet/backbones';
import { renderSyntheticFace } from '@facet/data';
import { initEngine, tf } from '@facet/engine';
import { writeNpy } from '@facet/eval';
import {
  classCenterShape,
  contactSheet,
  decodePng,
  disposeInversion,
  encodePng,
  writeImagePngs,
  forwardWithBnStatistics,
  invert,
  loadClassCenters,
  locateModel,
  openSetIdentityLoss,
  referenceRows,
  sampleRandomIdentities,
  writeInversionOutputs,
  type InversionTarget,
  type InvertOptions,
} from '../src/index.js';

const runA = process.argv[2] ?? 'runs/qs-inv';
const runB = process.argv[3] ?? 'runs/qs-inv-verifier';
const STEPS = Number(process.env.STEPS ?? 300);
const N = Number(process.env.TARGETS ?? 4);
const OUT = resolve(process.env.OUT ?? 'runs/inversion-diagnose');
const PHASES = (process.env.PHASES ?? 'targets,grad,levels,runs').split(',');
const HELD_OUT = 100_000;
const r3 = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? null : Math.round(v * 1000) / 1000);
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const quantile = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(q * a.length))]!;

function faces(ids: number[], variant: number, size: number): tf.Tensor4D {
  const px = new Float32Array(ids.length * size * size * 3);
  ids.forEach((id, i) => renderSyntheticFace(id, variant, { imageSize: size }).forEach((v, j) => (px[i * size * size * 3 + j] = (v - 127.5) / 127.5)));
  return tf.tensor4d(px, [ids.length, size, size, 3]);
}
const unit = (e: tf.Tensor2D) => tf.div(e, tf.norm(e, 'euclidean', 1, true)) as tf.Tensor2D;
const embedUnit = (m: Backbone, x: tf.Tensor4D) => tf.tidy(() => unit(m.apply(x, { training: false })));
const cosMatrix = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.tidy(() => tf.matMul(unit(a), unit(b), false, true).arraySync() as number[][]);

async function main() {
  const engine = await initEngine({ backend: (process.env.FACET_BACKEND as 'wasm') ?? 'wasm' });
  const load0 = loadavg()[0]!;
  const A = locateModel(runA);
  const model = await loadBackbone(A.modelDir);
  // the verifier is needed by the levels and runs phases only (targets/grad can run while it still trains)
  const needsB = PHASES.includes('levels') || PHASES.includes('runs');
  const B = needsB ? locateModel(runB) : A;
  const verifier = needsB ? await loadBackbone(B.modelDir) : model;
  const S = model.inputSize;
  const ca = loadClassCenters(A.runDir!);
  const cb = loadClassCenters(B.runDir!);
  const centersA = tf.tensor(ca.centers, classCenterShape(ca) as [number, number]) as tf.Tensor2D;
  const centersB = tf.tensor(cb.centers, classCenterShape(cb) as [number, number]) as tf.Tensor2D;
  const previous = existsSync(join(OUT, 'diagnose.json')) ? (JSON.parse(readFileSync(join(OUT, 'diagnose.json'), 'utf8')) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {
    ...previous, model: runA, verifier: runB, backend: engine.backend, margin: ca.margin, loadAverageAtStart: r3(load0) };
  mkdirSync(OUT, { recursive: true });
  const save = () => writeFileSync(join(OUT, 'diagnose.json'), JSON.stringify(out, null, 2) + '\n');
  const M = 32;
  const heldOut = Array.from({ length: M }, (_, i) => HELD_OUT + i);
  const real0 = faces(heldOut, 0, S);
  const real1 = faces(heldOut, 1, S);
  const train0 = faces(Array.from({ length: ca.numClasses }, (_, i) => i), 0, S);

  if (PHASES.includes('targets')) {
    // H1: cosines of 256 random targets with real faces' embeddings (A's space), against the same for real faces
    const eReal = embedUnit(model, real0);
    const eReal1 = embedUnit(model, real1);
    const meanDir = tf.tidy(() => unit(tf.mean(eReal, 0, true) as tf.Tensor2D));
    const rows: Record<string, unknown>[] = [];
    const describe = (name: string, t: tf.Tensor2D, selfExclude = false) => {
      const toReal = cosMatrix(t, eReal);
      const toCentre = cosMatrix(t, referenceRows(centersA));
      const toMean = cosMatrix(t, meanDir).map((r) => r[0]!);
      const maxReal = toReal.map((r, i) => Math.max(...r.filter((_, j) => !(selfExclude && j === i))));
      rows.push({
        targets: name,
        'mean cos to the mean face direction': r3(mean(toMean)),
        'mean cos to real faces': r3(mean(toReal.flat())),
        'max cos to 32 real faces (mean over targets)': r3(mean(maxReal)),
        'max cos to the 64 class centres (mean)': r3(mean(toCentre.map((r) => Math.max(...r)))),
      });
    };
    const sphere = sampleRandomIdentities(256, model.embeddingSize, 0);
    const centred = sampleRandomIdentities(256, model.embeddingSize, 0, centersA);
    describe('uniform on the sphere (paper, before)', sphere.targets);
    describe('N(μ, Σ) of the class centres (after)', centred.targets);
    describe('real held-out faces (other identities; reference)', eReal, true);
    describe('the same identities, second photo (genuine; reference)', eReal1);
    tf.dispose([eReal, eReal1, meanDir, sphere.targets, centred.targets, centred.weights!]);
    out.targets = rows;
    console.table(rows);
    save();
  }

  if (PHASES.includes('grad')) {
    // H2: at the start image (N(0,1) noise, seed 0), the size of each weighted term and of its pixel gradient
    const x0 = tf.randomNormal([N, S, S, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const rows: Record<string, unknown>[] = [];
    for (const [name, ref] of [['sphere', undefined], ['centres', centersA]] as const) {
      const { targets, weights } = sampleRandomIdentities(N, model.embeddingSize, 0, ref);
      const term = (which: 'id' | 'bn', x: tf.Tensor4D) => {
        const f = forwardWithBnStatistics(model, x, { include1d: 'auto' });
        return which === 'id' ? openSetIdentityLoss(f.embedding, targets, 'l2') : tf.mul(f.loss, 0.05);
      };
      for (const which of ['id', 'bn'] as const) {
        const g = tf.valueAndGrad((x: tf.Tensor4D) => term(which, x) as tf.Scalar);
        const { value, grad } = g(x0);
        const gn = tf.tidy(() => tf.norm(grad).dataSync()[0]!);
        rows.push({ targets: name, term: which === 'id' ? 'identity ℓ2 (weight 1)' : 'BN prior (λ = 0.05, Σ over layers)', value: r3(value.dataSync()[0]!), '‖∂/∂x‖': Number(gn.toPrecision(3)) });
        tf.dispose([value, grad]);
      }
      tf.dispose([targets, weights ?? []]);
    }
    let layers = 0;
    tf.tidy(() => void (layers = forwardWithBnStatistics(model, x0, {}).layers));
    out.grad = { rows, bnLayers: layers };
    console.table(rows);
    x0.dispose();
    save();
  }

  if (PHASES.includes('levels')) {
    // the verifier's reference levels on real faces (B's space)
    const v0 = embedUnit(verifier, real0);
    const v1 = embedUnit(verifier, real1);
    const vt = embedUnit(verifier, train0);
    const gen = cosMatrix(v1, v0).map((r, i) => r[i]!);
    const imp = cosMatrix(v1, v0).flatMap((r, i) => r.filter((_, j) => j !== i));
    const cB = referenceRows(centersB);
    const toCentres = cosMatrix(vt, cB);
    const ownCentre = toCentres.map((r, i) => r[i]!);
    const otherCentre = toCentres.flatMap((r, i) => r.filter((_, j) => j !== i));
    // random identities drawn from A's centres, carried to B by the same mixture: how close do real faces come?
    const { targets, weights } = sampleRandomIdentities(256, model.embeddingSize, 0, centersA);
    const tB = tf.tidy(() => unit(tf.matMul(weights!, cB)));
    const realToRandom = cosMatrix(v0, tB).flat();
    const levels = {
      'genuine: two photos of one held-out identity': { mean: r3(mean(gen)), p5: r3(quantile(gen, 0.05)) },
      'impostor: photos of two held-out identities': { mean: r3(mean(imp)), p95: r3(quantile(imp, 0.95)) },
      'training photo to its own class centre': { mean: r3(mean(ownCentre)), p5: r3(quantile(ownCentre, 0.05)) },
      'training photo to another class centre (impostor, class targets)': { mean: r3(mean(otherCentre)), p95: r3(quantile(otherCentre, 0.95)) },
      'real held-out photo to a random identity (impostor, random targets)': { mean: r3(mean(realToRandom)), p95: r3(quantile(realToRandom, 0.95)) },
    };
    out.verifierLevels = levels;
    console.log(JSON.stringify(levels, null, 1));
    tf.dispose([v0, v1, vt, cB, targets, weights!, tB]);
    save();
  }

  if (PHASES.includes('runs')) {
    const sphere = { kind: 'random', count: N, seed: 0 } as InversionTarget;
    const centres = { kind: 'random', count: N, seed: 0, reference: centersA } as InversionTarget;
    const classes = { kind: 'class', classes: Array.from({ length: N }, (_, i) => i), centers: centersA } as InversionTarget;
    const realN = tf.slice(real0, 0, N) as tf.Tensor4D;
    const realEmb = tf.tidy(() => model.apply(realN, { training: false }));
    const configs: Record<string, { target: InversionTarget; opts: InvertOptions }> = {
      // open set, real faces never trained on: as images (verifier compares with B(face)) and as stored embeddings
      'image-paper': { target: { kind: 'image', images: realN }, opts: { recipe: 'paper' } },
      'image-facet': { target: { kind: 'image', images: realN }, opts: {} },
      'embedding-facet': { target: { kind: 'embedding', embeddings: realEmb }, opts: {} },
      'paper-sphere': { target: sphere, opts: { recipe: 'paper' } },
      'paper-sphere-nobn': { target: sphere, opts: { recipe: 'paper', bnWeight: 0 } },
      'paper-centres': { target: centres, opts: { recipe: 'paper' } },
      'paper-centres-nobn': { target: centres, opts: { recipe: 'paper', bnWeight: 0 } },
      'sphere-auto': { target: sphere, opts: {} },
      'centres-auto': { target: centres, opts: {} },
      'centres-auto-nobn': { target: centres, opts: { bnWeight: 0 } },
      'centres-ramp': { target: centres, opts: { recipe: 'paper', bnRamp: 0.5 } },
      'centres-auto-ramp': { target: centres, opts: { bnRamp: 0.5 } },
      'centres-id32': { target: centres, opts: { identityWeight: 32 } },
      'class-paper': { target: classes, opts: { recipe: 'paper' } },
      'class-facet': { target: classes, opts: {} },
    };
    // the embedding targets' counterpart in the verifier's space: the verifier's embeddings of the same faces
    const verifierRealEmb = tf.tidy(() => verifier.apply(realN, { training: false }));
    const names = (process.env.CONFIGS ?? 'paper-sphere,paper-centres,sphere-auto,centres-auto').split(',');
    const rows: Record<string, unknown>[] = (out.runs as Record<string, unknown>[]) ?? [];
    out.runs = rows;
    for (const name of names) {
      const c = configs[name];
      if (!c) throw new Error(`unknown config ${name} (${Object.keys(configs).join(', ')})`);
      const load = loadavg()[0]!;
      const r = await invert(model, c.target, {
        steps: STEPS,
        batchSize: N,
        margin: ca.margin,
        ...c.opts,
        // the verifier's centres give class targets and centre-drawn identities their counterpart there
        verifier:
          c.target.kind === 'class' || (c.target.kind === 'random' && c.target.reference)
            ? { model: verifier, centers: centersB }
            : c.target.kind === 'embedding'
              ? { model: verifier, embeddings: verifierRealEmb }
              : { model: verifier },
      });
      const s = r.summary;
      rows.push({
        config: name,
        steps: STEPS,
        identityWeight: s.identityWeight,
        cos: r3(s.meanCosine),
        start: r3(s.meanInitialCosine),
        verifier: r3(s.meanVerifierCosine),
        impostor: r3(s.meanVerifierImpostorCosine),
        converged: `${s.convergedCount}/${s.targets}`,
        batchBn: Math.round(s.batchBnDistance),
        seconds: Math.round(s.seconds),
        load: r3(load),
      });
      writeInversionOutputs(r, join(OUT, name), { extra: { config: name } });
      console.log(JSON.stringify(rows.at(-1)));
      disposeInversion(r);
      save();
    }
    tf.dispose([realN, realEmb, verifierRealEmb]);
  }
  if (PHASES.includes('files')) {
    // inputs for the CLI checks: N held-out faces as PNGs (--image) and A's embeddings of them as .npy (--embedding)
    const realN = tf.slice(real0, 0, N) as tf.Tensor4D;
    writeImagePngs(realN, (i) => join(OUT, `heldout-${i}.png`));
    const emb = tf.tidy(() => model.apply(realN, { training: false }));
    writeNpy(join(OUT, 'heldout-emb.npy'), emb.dataSync() as Float32Array, emb.shape);
    tf.dispose([realN, emb]);
  }

  if (PHASES.includes('sheet')) {
    // docs sheet: rows = targets, columns = the final images of the configurations in SHEET (read back from OUT)
    const names = (process.env.SHEET ?? 'paper-sphere,centres-auto').split(',');
    const cols = names.map((name) => {
      const files = Array.from({ length: N }, (_, i) => join(OUT, name, `inverted-${i}.png`));
      // PNGs written with --scale k are k·S wide: take every k-th pixel (they are nearest-neighbour upscales)
      const px = files.flatMap((f) => {
        const img = decodePng(readFileSync(f), f);
        const k = img.width / S;
        const out: number[] = [];
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) out.push((img.data[(y * k * img.width + x * k) * 3 + c]! - 127.5) / 127.5);
        return out;
      });
      return tf.tensor4d(px, [N, S, S, 3]);
    });
    const file = resolve(process.env.SHEET_OUT ?? 'docs/inversion/random-before-after.png');
    writeFileSync(file, encodePng(contactSheet(cols), Number(process.env.SHEET_SCALE ?? 1)));
    out.sheet = { file, columns: names };
    tf.dispose(cols);
    save();
  }
  tf.dispose([real0, real1, train0, centersA, centersB]);
  model.dispose();
  if (verifier !== model) verifier.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
