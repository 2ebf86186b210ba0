// Partial FC vs the full FC (sampleRate 1) for the classification head alone: B = 128, D = 512, ArcFace, SGD
// momentum; C ∈ {10k, 100k, 1M}, rates 0.1 and 0.3. One step = forward + backward + host update of the sampled
// centres, embeddings random and fixed, labels random. Each configuration runs in its own child process: the wasm
// heap never shrinks and a process's peak RSS only grows, so sharing one process would let a large case pollute
// the memory figures of the next. A configuration whose estimated engine memory exceeds the 4 GiB wasm heap is
// refused before anything is allocated and reported as such.
import { DEFAULT_BLOCK_BYTES, estimateStepEngineBytes, maxSampledClasses, WASM_HEAP_BYTES } from '@facet/sdk';
import { runChildScript, type BenchRow, type Suite } from '../harness.js';

const B = 128;
const D = 512;
const RATES = [0.1, 0.3];

interface CaseResult {
  ok: boolean;
  refused?: string;
  error?: string;
  stepSeconds: number[];
  /** Peak of tf.memory().numBytes during a profiled step (bytes). */
  enginePeak: number;
  /** Peak resident set size of the whole process (bytes): host arrays + the wasm heap + Node itself. */
  rssPeak: number;
  /** PartialFC.estimateMemory(B) for the record. */
  estimate?: { engineBytes: number; hostBytes: number };
  sampled: number;
  initSeconds: number;
}

// Runs in a fresh `node --input-type=module` whose cwd is inside the workspace, so '@facet/sdk' resolves to the build.
const CHILD = `
import { fixedInputHeadStep, initEngine, tf, PartialFC } from '@facet/sdk';
const a = JSON.parse(process.argv[1]);
await initEngine({ backend: 'wasm' });
let t = performance.now();
const pfc = new PartialFC({ numClasses: a.C, embeddingSize: a.D, sampleRate: a.rate, seed: 7,
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 } });
const initSeconds = (performance.now() - t) / 1000;
const { step } = fixedInputHeadStep(pfc, a.B);
const base = tf.memory().numBytes;
t = performance.now();
const prof = await tf.profile(step); // warm-up step, profiled for the engine peak
const stepSeconds = a.steps === 0 ? [(performance.now() - t) / 1000] : [];
for (let i = 0; i < a.steps; i++) {
  t = performance.now();
  step();
  stepSeconds.push((performance.now() - t) / 1000);
}
const sampled = pfc.lastSampledClasses()?.length ?? 0;
process.stdout.write(JSON.stringify({ ok: true, stepSeconds, enginePeak: prof.peakBytes - base,
  rssPeak: process.resourceUsage().maxRSS * 1024, estimate: pfc.estimateMemory(a.B), sampled, initSeconds }) + '\\n');
`;

function runCase(C: number, rate: number, steps: number): CaseResult {
  const need = estimateStepEngineBytes(B, maxSampledClasses(C, rate, B), 1, D, Math.floor(DEFAULT_BLOCK_BYTES / (4 * D)));
  const empty = { stepSeconds: [], enginePeak: NaN, rssPeak: NaN, sampled: 0, initSeconds: NaN };
  if (need > WASM_HEAP_BYTES) {
    return { ok: false, refused: `refused: needs ${(need / 1024 ** 3).toFixed(1)} GiB engine memory (> 4 GiB wasm heap)`, ...empty };
  }
  const r = runChildScript<CaseResult>(CHILD, { C, rate, B, D, steps }, 15);
  return r.ok ? r.value : { ok: false, error: r.error, ...empty };
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const MiB = 1024 ** 2;

export const partialFcSuite: Suite = {
  name: 'partial-fc',
  description: 'Partial FC (rates 0.1, 0.3) vs full FC: head step time and peak memory, B=128, D=512, ArcFace, SGD',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    for (const C of quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]) {
      // timed steps after one profiled warm-up step. The full FC at C = 1M (~1-2 min a step on 2 cores) is timed
      // on its single profiled step only, to keep the suite near 5 minutes.
      const steps = quick ? 1 : C >= 1_000_000 ? 2 : 3;
      const fullSteps = !quick && C >= 1_000_000 ? 0 : steps;
      const full = runCase(C, 1, fullSteps);
      const fullNote = full.refused ?? full.error;
      console.log(`  C=${C} full FC: ${fullNote ?? `${median(full.stepSeconds).toFixed(2)} s/step`}`);
      for (const rate of RATES) {
        const pfc = runCase(C, rate, steps);
        console.log(`  C=${C} r=${rate}: ${pfc.error ?? pfc.refused ?? `${median(pfc.stepSeconds).toFixed(2)} s/step, ${pfc.sampled} classes sampled, store init ${pfc.initSeconds.toFixed(1)} s`}`);
        const note =
          [pfc.error ?? pfc.refused, fullNote && `full FC ${fullNote}`, fullSteps === 0 && 'full FC: one (profiled, first) step']
            .filter(Boolean)
            .join('; ') || undefined;
        const mk = (metric: string, facet: number, baseline: number, extra: Partial<BenchRow> = {}): BenchRow => ({
          suite: 'partial-fc',
          case: `C=${C.toLocaleString('en')} rate ${rate} (${pfc.sampled.toLocaleString('en')} sampled)`,
          metric,
          facet,
          baseline,
          baselineName: 'full FC (rate 1), same run',
          // times and memory: lower is better, so the ratio is full/partial (how many times cheaper)
          ratio: baseline / facet,
          ...(note ? { note } : {}),
          ...extra,
        });
        rows.push(
          mk('step time (s)', median(pfc.stepSeconds), median(full.stepSeconds), {
            facetMin: Math.min(...pfc.stepSeconds),
            baselineMin: Math.min(...full.stepSeconds),
          }),
          mk('engine peak (MiB, tf.memory)', pfc.enginePeak / MiB, full.enginePeak / MiB),
          mk('process peak RSS (MiB, host + wasm heap)', pfc.rssPeak / MiB, full.rssPeak / MiB),
        );
      }
    }
    return rows;
  },
};
