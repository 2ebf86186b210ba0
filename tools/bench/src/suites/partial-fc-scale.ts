// Partial FC at scale: C = 1M and 10M classes × 512 dims, centres + SGD momentum in host memory vs on disk
// (DiskClassCenterStore: fp32 files read/written by sampled index, the OS page cache caching), B = 128, ArcFace.
// Step time (forward + backward + host update of the head alone) and peak RSS, each configuration in its own child
// process (peak RSS only grows). In-memory configurations over the host budget are refused with their numbers by
// PartialFC itself, before allocating, instead of being run into the OOM killer. Baselines in the same run: the
// in-memory store at the same C where it fits, else the 1M in-memory case with the same number of sampled rows;
// and PyTorch's Partial FC (v1 semantics) at C = 1M through the peer.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fmt, markdownTable, runChildScript, summarize, type BenchRow, type Suite } from '../harness.js';
import { describeTorch, TorchPeer } from '../peers.js';

const B = 128;
const D = 512;

interface CaseResult {
  ok: boolean;
  refused?: string;
  error?: string;
  initSeconds: number;
  stepSeconds: number[];
  rssPeak: number;
  sampled: number;
  /** Disk blocks the store's files hold after the steps (sparse files: only written rows). */
  diskBytes?: number;
  estimate?: { engineBytes: number; hostBytes: number };
}

const CHILD = `
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fixedInputHeadStep, initEngine, tf, PartialFC } from '@facet/sdk';
const a = JSON.parse(process.argv[1]);
await initEngine({ backend: 'wasm' });
let t = performance.now();
let pfc;
try {
  pfc = new PartialFC({ numClasses: a.C, embeddingSize: a.D, sampleRate: a.rate, seed: 7,
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }, ...(a.dir ? { disk: { directory: a.dir } } : {}) });
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, refused: e.message, stepSeconds: [], initSeconds: NaN, rssPeak: process.resourceUsage().maxRSS * 1024, sampled: 0 }) + '\\n');
  process.exit(0);
}
const initSeconds = (performance.now() - t) / 1000;
const { step } = fixedInputHeadStep(pfc, a.B);
const stepSeconds = [];
for (let i = 0; i < a.steps + 1; i++) {
  t = performance.now();
  step();
  if (i > 0 || a.steps === 0) stepSeconds.push((performance.now() - t) / 1000);
}
const sampled = pfc.lastSampledClasses()?.length ?? 0;
const estimate = pfc.estimateMemory(a.B);
pfc.dispose();
let diskBytes;
if (a.dir) diskBytes = readdirSync(a.dir).reduce((n, f) => n + statSync(join(a.dir, f)).blocks * 512, 0);
process.stdout.write(JSON.stringify({ ok: true, initSeconds, stepSeconds, rssPeak: process.resourceUsage().maxRSS * 1024, sampled, diskBytes, estimate }) + '\\n');
`;

function runCase(C: number, rate: number, disk: boolean, steps: number): CaseResult {
  const dir = disk ? mkdtempSync(join(tmpdir(), 'facet-bench-centers-')) : undefined;
  try {
    const r = runChildScript<CaseResult>(CHILD, { C, rate, B, D, steps, dir }, 20);
    return r.ok ? r.value : { ok: false, error: r.error, initSeconds: NaN, stepSeconds: [], rssPeak: NaN, sampled: 0 };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const GiB = 1024 ** 3;
const label = (C: number) => (C >= 1e6 ? `${C / 1e6}M` : `${C / 1e3}k`);

export const partialFcScaleSuite: Suite = {
  name: 'partial-fc-scale',
  description: `Partial FC at C = 1M / 10M × ${D}: centres + momentum in memory vs on disk (page cache), B = ${B}, ArcFace, SGD`,
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const sections: string[] = [];
    const steps = quick ? 1 : 2;
    // same sampled rows per step (100k) at both sizes: the difference is the store, not the engine work
    const cases: Array<[number, number]> = quick ? [[100_000, 0.1], [1_000_000, 0.01]] : [[1_000_000, 0.1], [10_000_000, 0.01]];
    const results = new Map<string, CaseResult>();
    const table: Array<Array<string | number>> = [];
    for (const [C, rate] of cases) {
      for (const disk of [false, true]) {
        const r = runCase(C, rate, disk, steps);
        results.set(`${C}/${disk}`, r);
        const what = `C=${label(C)} rate ${rate} ${disk ? 'disk' : 'memory'}`;
        console.log(`  ${what}: ${r.refused ?? r.error ?? `${fmt(summarize(r.stepSeconds).median)} s/step, init ${fmt(r.initSeconds)} s, peak RSS ${(r.rssPeak / GiB).toFixed(2)} GiB`}`);
        table.push([
          label(C),
          rate,
          disk ? 'disk (fp32 files)' : 'memory (fp32)',
          r.ok ? r.sampled.toLocaleString('en') : '',
          r.ok ? fmt(r.initSeconds) : '',
          r.ok ? r.stepSeconds.map(fmt).join(', ') : (r.refused ?? r.error ?? '').replace(/\|/g, '/'),
          r.ok ? (r.rssPeak / GiB).toFixed(2) : '',
          r.diskBytes !== undefined ? (r.diskBytes / GiB).toFixed(2) : '',
        ]);
      }
    }
    for (const [C, rate] of cases) {
      const mem = results.get(`${C}/false`)!;
      const disk = results.get(`${C}/true`)!;
      // baseline: in memory at this C, or (refused) the first size's in-memory case with as many sampled rows
      const base = mem.ok ? mem : results.get(`${cases[0]![0]}/false`)!;
      const baseName = mem.ok ? `in-memory store, same C` : `in-memory store at C=${label(cases[0]![0])} (same 100k sampled rows); C=${label(C)} in memory refused`;
      const d = summarize(disk.stepSeconds);
      const m = summarize(base.stepSeconds);
      const note = [disk.error, !mem.ok && `in memory: ${(mem.refused ?? mem.error ?? '').split('(hostBudgetBytes')[0]}`].filter(Boolean).join('; ') || undefined;
      rows.push(
        {
          suite: 'partial-fc-scale',
          case: `C=${label(C)} × ${D}, rate ${rate} (${disk.sampled.toLocaleString('en')} sampled), disk-backed`,
          metric: 'head step time (s)',
          facet: d.median,
          facetMin: d.min,
          baseline: m.median,
          baselineMin: m.min,
          baselineName: baseName,
          ratio: m.median / d.median,
          ...(note ? { note } : {}),
        },
        {
          suite: 'partial-fc-scale',
          case: `C=${label(C)} × ${D}, rate ${rate}, disk-backed`,
          metric: 'process peak RSS (GiB)',
          facet: disk.rssPeak / GiB,
          baseline: base.rssPeak / GiB,
          baselineName: baseName,
          ratio: base.rssPeak / disk.rssPeak,
          note: `store files: ${disk.diskBytes !== undefined ? (disk.diskBytes / GiB).toFixed(2) : '?'} GiB on disk after ${steps + 1} steps (sparse; logical ${((C * D * 8) / GiB).toFixed(1)} GiB)`,
        },
      );
    }
    sections.push(
      `### Partial FC at scale, every configuration (machine RAM ${(totalmem() / GiB).toFixed(1)} GiB)\n\n` +
        markdownTable(['C', 'rate', 'store', 'sampled', 'init s', 'step s (after 1 warm-up)', 'peak RSS GiB', 'files on disk GiB'], table) +
        '\n\nDisk-backed rows are initialised lazily (drawn the first time they are read, written on their first update), so ' +
        'early steps pay the draws of rows never touched before; the page cache holds the rows read so far, outside the process RSS.',
    );

    // the classification layer against PyTorch: Partial FC at C = 1M, rate 0.1 (v1 semantics in both)
    const peer = await TorchPeer.start();
    if (!(peer instanceof TorchPeer)) sections.push(`PyTorch head rows missing: ${peer.skipped}`);
    else {
      try {
        sections.push(`Peer: ${describeTorch(await peer.info())}.`);
        const [C, rate] = quick ? [100_000, 0.1] : [1_000_000, 0.1];
        await peer.request({ cmd: 'head', C, D, B, rate });
        await peer.seconds({ cmd: 'head_step' });
        const torchSteps: number[] = [];
        for (let i = 0; i < steps; i++) torchSteps.push(await peer.seconds({ cmd: 'head_step' }));
        await peer.request({ cmd: 'free' });
        const t = summarize(torchSteps);
        const facet = results.get(`${C}/false`);
        if (facet?.ok) {
          const f = summarize(facet.stepSeconds);
          rows.push({
            suite: 'partial-fc-scale',
            case: `Partial FC C=${label(C)} × ${D}, rate ${rate}, B=${B}, in memory`,
            metric: 'head step time (s)',
            facet: f.median,
            facetMin: f.min,
            baseline: t.median,
            baselineMin: t.min,
            baselineName: 'PyTorch CPU, same head (sample, normalise, ArcFace, CE, backward, SGD on sampled rows)',
            ratio: t.median / f.median,
            note: 'not interleaved: Facet ran in its child process above',
          });
        }
      } finally {
        await peer.close();
      }
    }
    return { rows, sections };
  },
};
