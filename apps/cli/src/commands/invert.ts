import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  classCenterShape,
  decodeImage,
  fitToSquare,
  initEngine,
  invert,
  disposeInversion,
  loadBackbone,
  loadClassCenters,
  locateModel,
  readNpy,
  tf,
  writeInversionOutputs,
  type Backbone,
  type InversionImageReport,
  type InversionSummary,
  type InversionTarget,
  type TrainedClassCenters,
  type VerifierSpec,
} from '@facet/sdk';
import { Args, Flags } from '@oclif/core';
import { FacetCommand } from '../base.js';
import { outFolderFlag } from '../out-flag.js';
import { formatDuration, progressBar } from '../render/progress.js';

export interface InvertCommandResult {
  out: string;
  files: { images: string[]; contactSheet: string; report: string };
  summary: InversionSummary;
  images: InversionImageReport[];
}

/** Decode image files to one normalised [N, S, S, 3] batch ((p − 127.5)/127.5). */
async function loadFaces(paths: string[], size: number): Promise<tf.Tensor4D> {
  const pixels = new Float32Array(paths.length * size * size * 3);
  for (const [i, p] of paths.entries()) {
    if (!existsSync(p)) throw new Error(`--image ${p}: no such file.`);
    const rgb = fitToSquare(await decodeImage(readFileSync(p), p), size);
    for (let j = 0; j < rgb.length; j++) pixels[i * size * size * 3 + j] = (rgb[j]! - 127.5) / 127.5;
  }
  return tf.tensor4d(pixels, [paths.length, size, size, 3]);
}

/** The class centres of a run directory, or undefined when it has none (no margin-head checkpoint); read once. */
function classCentersOf(runDir: string | undefined): TrainedClassCenters | undefined {
  if (!runDir) return undefined;
  try {
    return loadClassCenters(runDir);
  } catch {
    return undefined;
  }
}

/** The reference set that --random identities are drawn from: the run's class centres, a .npy, or none (sphere). */
function randomReference(from: string, c: TrainedClassCenters | undefined, modelArg: string): tf.Tensor2D | tf.Tensor3D | undefined {
  if (from === 'sphere') return undefined;
  if (from === 'centers') {
    if (!c) {
      throw new Error(`--random draws new identities from the class centres of the run, and ${modelArg} has none (a model folder, or a run without a margin head). Pass the run directory, --random-from emb.npy (embeddings of reference faces, facet embed writes them) or --random-from sphere.`);
    }
    return tf.tensor(c.centers, classCenterShape(c)) as tf.Tensor2D | tf.Tensor3D;
  }
  if (!existsSync(from)) throw new Error(`--random-from ${from}: not centers, sphere or an existing .npy file.`);
  const npy = readNpy(from);
  if (npy.shape.length !== 2 || npy.shape[0]! < 2) throw new Error(`--random-from ${from} has shape [${npy.shape.join(', ')}]; expected [M, D] reference embeddings with M ≥ 2.`);
  return tf.tensor2d(npy.data, npy.shape as [number, number]);
}

function parseClasses(values: string[]): number[] {
  return values
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--class ${s} is not a class index (a non-negative integer; several: --class 3,17).`);
      return n;
    });
}

export default class Invert extends FacetCommand {
  static description =
    'Invert a face-recognition model: optimise images from noise so the model maps them to a target identity, using only its gradients and its BatchNorm statistics (ArcFace TPAMI §3.3). Writes one PNG per target, a contact sheet and report.json';
  static examples = [
    '<%= config.bin %> invert runs/r18 --class 0,1,2,3 --out inv',
    '<%= config.bin %> invert runs/r18 --image face.png --verifier runs/r18-seed7 --steps 1000',
    '<%= config.bin %> invert runs/r18 --random 8 --verifier runs/r18-seed7',
    '<%= config.bin %> invert runs/r18 --random 8 --recipe paper --no-bn-prior',
    '<%= config.bin %> invert runs/r18/model --embedding emb.npy --json',
  ];
  static args = {
    model: Args.string({ description: 'model to invert: a facet train output directory or its model/ folder', required: true }),
  };
  static flags = {
    image: Flags.string({ description: 'target face image (aligned crop); repeat for several (default: none)', multiple: true, helpGroup: 'TARGETS' }),
    embedding: Flags.string({ description: '.npy of target embeddings [N, D] in the model\'s space (facet embed writes one) (default: none)', helpGroup: 'TARGETS' }),
    class: Flags.string({ description: 'training class index (close set, needs the run\'s checkpoints); comma list or repeat (default: none)', multiple: true, helpGroup: 'TARGETS' }),
    random: Flags.integer({ description: 'N new identities, drawn from the distribution of the model\'s class centres (see --random-from) (default: none)', min: 1, helpGroup: 'TARGETS' }),
    'random-from': Flags.string({
      description: 'where --random identities come from: centers (the run\'s class centres), sphere (uniform: the paper\'s recipe, rarely reachable), or a .npy of reference embeddings [M, D] (default: centers, sphere with --recipe paper)',
      helpGroup: 'TARGETS',
    }),
    recipe: Flags.string({ description: 'defaults to start from: facet (open-set identity weight s/2, 600 steps, random identities from the centres) or paper (ArcFace TPAMI §4.5 as printed: weight 1, 2000 steps, uniform random identities)', options: ['facet', 'paper'], default: 'facet' }),
    verifier: Flags.string({ description: 'independent model (other seed or architecture) that scores the results (default: none: no verifier score)' }),
    out: outFolderFlag('inversion', 'the synthesized PNGs, contact sheet and report.json'),
    steps: Flags.integer({ description: 'optimisation steps (default 600; --recipe paper 2000; the paper ran 20000 on a GPU)', min: 1 }),
    lr: Flags.string({ description: 'Adam learning rate (warm-up + cosine decay)', default: '0.25' }),
    'batch-size': Flags.integer({ description: 'targets optimised together (BN statistics pooled over them)', default: 256, min: 1 }),
    'identity-weight': Flags.string({ description: 'weight of the identity term; auto = s/2 for open-set targets (the ℓ2 term\'s slope matched to the ArcFace loss\'s), 1 for --class (default: auto; --recipe paper 1)' }),
    'bn-ramp': Flags.string({ description: 'fraction of the steps over which λ_bn rises linearly to its value (0 = constant, as the paper)', default: '0' }),
    'converged-cosine': Flags.string({ description: 'a target counts as converged at this cosine (and, with --verifier, above the verifier\'s impostor level)', default: '0.7' }),
    'bn-weight': Flags.string({ description: 'λ of the BN statistic prior (paper 0.05)', default: '0.05' }),
    'bn-form': Flags.string({ description: 'paper: squared, mean+std; deepinversion: plain norms, mean+variance', options: ['paper', 'deepinversion'], default: 'paper' }),
    'first-bn-multiplier': Flags.string({ description: 'weight of the first BN layer (DeepInversion: 10)', default: '1' }),
    bn1d: Flags.string({ description: 'BN1d (embedding BN) layers in the prior: auto = only for batches ≥ 64', options: ['auto', 'on', 'off'], default: 'auto' }),
    'tv-weight': Flags.string({ description: 'total-variation weight (paper 1e-3)', default: '1e-3' }),
    'l2-weight': Flags.string({ description: 'image ℓ2 weight (paper 1e-4)', default: '1e-4' }),
    'bn-prior': Flags.boolean({ description: 'BN statistic prior (--no-bn-prior to see what it contributes)', default: true, allowNo: true }),
    tv: Flags.boolean({ description: 'total-variation prior (--no-tv to switch it off)', default: true, allowNo: true }),
    jitter: Flags.integer({ description: 'max random roll in pixels (default 15 px at 112, scaled)', min: 0 }),
    flip: Flags.boolean({ description: 'random horizontal flip each step', default: true, allowNo: true }),
    seed: Flags.integer({ description: 'seed of the noise, jitter and --random targets', default: 0 }),
    snapshots: Flags.integer({ description: 'contact-sheet columns (evenly spaced steps)', default: 6, min: 1 }),
    scale: Flags.integer({ description: 'integer upscale of the written PNGs', default: 1, min: 1, max: 16 }),
  };

  async run(): Promise<InvertCommandResult> {
    const { args, flags } = await this.parse(Invert);
    const kinds = [flags.image?.length ? '--image' : '', flags.embedding ? '--embedding' : '', flags.class?.length ? '--class' : '', flags.random ? '--random' : ''].filter(Boolean);
    if (kinds.length !== 1) {
      throw new Error(kinds.length ? `give one kind of target, not ${kinds.join(' and ')}.` : 'give the targets: --image face.png, --embedding emb.npy, --class 17 or --random 8.');
    }
    const num = (name: string, v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`--${name} ${v} is not a number.`);
      return n;
    };
    await initEngine({ backend: this.preferWasmUnderAuto(flags.backend) });
    const where = locateModel(args.model);
    const model = await loadBackbone(where.modelDir);
    const owned: Array<{ dispose(): void }> = [model];
    try {
      const S = model.inputSize;
      let target: InversionTarget;
      let targetImages: tf.Tensor4D | undefined;
      // the trained head's margin: the close-set loss uses it, and the open-set identity weight 'auto' is its s/2
      const trained = classCentersOf(where.runDir);
      const margin = trained?.margin;
      const recipe = flags.recipe as 'facet' | 'paper';
      if (flags['random-from'] && !flags.random) throw new Error('--random-from applies to --random targets only.');
      if (flags.image?.length) {
        targetImages = await loadFaces(flags.image, S);
        owned.push(targetImages);
        target = { kind: 'image', images: targetImages };
      } else if (flags.embedding) {
        const npy = readNpy(flags.embedding);
        if (npy.shape.length !== 2) throw new Error(`--embedding ${flags.embedding} has shape [${npy.shape.join(', ')}]; expected [N, D] rows.`);
        const e = tf.tensor2d(npy.data, npy.shape as [number, number]);
        owned.push(e);
        target = { kind: 'embedding', embeddings: e };
      } else if (flags.class?.length) {
        if (!where.runDir) throw new Error(`--class needs the class centres in the run's checkpoints; ${args.model} is a model folder outside a facet train run. Pass the run directory.`);
        const c = trained ?? loadClassCenters(where.runDir); // the second call explains what is missing
        const centers = tf.tensor(c.centers, classCenterShape(c)) as tf.Tensor2D | tf.Tensor3D;
        owned.push(centers);
        target = { kind: 'class', classes: parseClasses(flags.class), centers };
      } else {
        const reference = randomReference(flags['random-from'] ?? (recipe === 'paper' ? 'sphere' : 'centers'), trained, args.model);
        if (reference) owned.push(reference);
        target = { kind: 'random', count: flags.random!, seed: flags.seed, ...(reference ? { reference } : {}) };
      }

      let verifier: VerifierSpec | undefined;
      if (flags.verifier) {
        const vw = locateModel(flags.verifier);
        const vm: Backbone = await loadBackbone(vw.modelDir);
        owned.push(vm);
        verifier = { model: vm };
        const mixesCentres = target.kind === 'random' && target.reference !== undefined && (flags['random-from'] ?? 'centers') === 'centers';
        const vc = target.kind === 'class' || mixesCentres ? classCentersOf(vw.runDir) : undefined;
        if (vc) {
          const vcent = tf.tensor(vc.centers, classCenterShape(vc)) as tf.Tensor2D | tf.Tensor3D;
          owned.push(vcent);
          verifier.centers = vcent;
        }
      }

      const json = this.jsonEnabled();
      const bar = json ? undefined : progressBar('invert', 'cos {cos} | loss {loss} | batch {chunk} | ETA {eta}');
      let started = false;
      const steps = flags.steps ?? (recipe === 'paper' ? 2000 : 600);
      const idw = flags['identity-weight'];
      const result = await invert(model, target, {
        recipe,
        steps,
        lr: num('lr', flags.lr),
        batchSize: flags['batch-size'],
        ...(idw === undefined ? {} : { identityWeight: idw === 'auto' ? 'auto' : num('identity-weight', idw) }),
        bnRamp: num('bn-ramp', flags['bn-ramp']),
        convergedCosine: num('converged-cosine', flags['converged-cosine']),
        bnWeight: flags['bn-prior'] ? num('bn-weight', flags['bn-weight']) : 0,
        bnForm: flags['bn-form'] as 'paper' | 'deepinversion',
        firstBnMultiplier: num('first-bn-multiplier', flags['first-bn-multiplier']),
        bn1d: flags.bn1d === 'auto' ? 'auto' : flags.bn1d === 'on',
        tvWeight: flags.tv ? num('tv-weight', flags['tv-weight']) : 0,
        l2Weight: num('l2-weight', flags['l2-weight']),
        ...(flags.jitter !== undefined ? { jitter: flags.jitter } : {}),
        flip: flags.flip,
        seed: flags.seed,
        ...(margin ? { margin } : {}),
        snapshotSteps: Array.from({ length: flags.snapshots }, (_, i) => Math.max(1, Math.round((steps * (i + 1)) / flags.snapshots))),
        verifier,
        onProgress: (p) => {
          const done = p.chunk * p.steps + p.step;
          const total = p.chunks * p.steps;
          const payload = { cos: p.cosine.toFixed(3), loss: p.loss.toFixed(3), chunk: `${p.chunk + 1}/${p.chunks}`, eta: formatDuration((p.elapsedSeconds / done) * (total - done)) };
          if (bar) {
            if (!started) bar.start(total, 0, payload);
            started = true;
            bar.update(done, payload);
          } else if (!json && (p.step % Math.max(1, Math.round(p.steps / 10)) === 0)) {
            this.log(`step ${p.step}/${p.steps} batch ${payload.chunk} cos ${payload.cos} loss ${payload.loss} (id ${p.identity.toFixed(3)} bn ${p.bn.toFixed(3)} tv ${p.tv.toFixed(3)} l2 ${p.l2.toFixed(4)}) lr ${p.lr.toExponential(2)}`);
          }
        },
      });
      bar?.stop();
      try {
        const out = resolve(flags.out);
        const files = writeInversionOutputs(result, out, {
          targetImages,
          scale: flags.scale,
          extra: { model: where.modelDir, verifier: flags.verifier ? resolve(flags.verifier) : null },
        });
        const s = result.summary;
        const f3 = (v: number | null) => (v === null ? '-' : v.toFixed(3));
        this.log(`inverted ${s.targets} target(s) with ${s.model} in ${s.seconds.toFixed(1)} s (${s.steps} steps, recipe ${recipe}, identity weight ${s.identityWeight}, priors: BN ${s.priors.bn ? 'on' : 'off'}, TV ${s.priors.tv ? 'on' : 'off'})`);
        this.table(
          ['target', 'cos', 'start', 'verifier', 'impostor', 'BN dist', 'converged'],
          result.report.map((r) => [r.target, r.cosine.toFixed(3), r.initialCosine.toFixed(3), f3(r.verifierCosine), f3(r.verifierImpostorCosine), r.bnDistance.toFixed(2), r.converged ? 'yes' : 'NO']),
        );
        this.log(`mean cos ${s.meanCosine.toFixed(3)}${s.meanVerifierCosine === null ? '' : `, verifier ${s.meanVerifierCosine.toFixed(3)} (impostor level ${f3(s.meanVerifierImpostorCosine)})`}; batch BN distance ${s.initialBatchBnDistance.toFixed(2)} → ${s.batchBnDistance.toFixed(2)}${s.targetBatchBnDistance === undefined ? '' : ` (real faces ${s.targetBatchBnDistance.toFixed(2)})`}`);
        this.log(
          s.converged
            ? `converged: ${s.convergedCount}/${s.targets} targets (${s.convergence.why})`
            : `NOT CONVERGED: ${s.convergedCount}/${s.targets} targets meet the rule (${s.convergence.why}); try more --steps, a higher --identity-weight${target.kind === 'random' && !target.reference ? ', or --random-from centers (uniform random identities are rarely reachable)' : ''}`,
        );
        this.log(`wrote ${files.images.length} PNG(s), ${files.contactSheet} and ${files.report}`);
        return { out, files, summary: s, images: result.report };
      } finally {
        disposeInversion(result);
      }
    } finally {
      for (const o of owned) o.dispose();
    }
  }
}
