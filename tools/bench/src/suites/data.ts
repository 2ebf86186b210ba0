// Loader throughput: images/s decoded + augmented into normalised batches, with 0 (main thread), 1 and 2 worker
// threads, on a folder of 112×112 JPEGs and on the synthetic set (rendered on the fly). Baseline: the 0-worker
// figure of the same source, measured in the same run.
// Alignment throughput: `facet data align` (decode + face-api detection + 68 landmarks + Umeyama + warp + PNG write)
// on the 34 committed real photos (libs/align/test/fixtures), on each engine that loads; baseline: wasm, same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alignFaces, AUGMENT_PRESETS, BatchLoader, initEngine, openDataset, SyntheticFaceDataset, writeDatasetFolder, type FaceDataset } from '@facet/sdk';
import { machineLoad, timeIt, type BenchRow, type Suite } from '../harness.js';

const PHOTOS = join(dirname(fileURLToPath(import.meta.url)), '../../../libs/align/test/fixtures/photos');

/** Images/s of alignFaces on `backend` (median of repeats after one warm-up pass that loads the detector). */
async function alignSpeed(backend: 'native' | 'wasm', repeats: number) {
  await initEngine({ backend });
  const runs: number[] = [];
  let detectionRate = 0;
  for (let i = -1; i < repeats; i++) {
    const dst = mkdtempSync(join(tmpdir(), 'facet-bench-align-'));
    try {
      const r = await alignFaces(PHOTOS, dst, { sheetSamples: 0 });
      detectionRate = r.detectionRate;
      if (i >= 0) runs.push(r.imagesPerSecond);
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  }
  runs.sort((a, b) => a - b);
  return { median: runs[Math.floor(runs.length / 2)]!, best: runs[runs.length - 1]!, detectionRate };
}

const BATCH = 64;

async function imagesPerSecond(ds: FaceDataset, numWorkers: number, batches: number, repeats: number) {
  const loader = new BatchLoader(ds, { batchSize: BATCH, seed: 1, numWorkers, prefetch: 2, augment: AUGMENT_PRESETS.dali });
  try {
    await loader.next(); // start-up (worker spawn, dataset open) and warm-up
    const t = await timeIt(async () => {
      for (let i = 0; i < batches; i++) await loader.next();
    }, repeats, 0);
    const n = batches * BATCH;
    return { median: n / t.median, best: n / t.min };
  } finally {
    await loader.close();
  }
}

export const dataSuite: Suite = {
  name: 'data',
  description: 'BatchLoader images/s (decode + insightface DALI-style augmentation + normalise), 0 vs 1 vs 2 worker threads',
  async run({ quick }) {
    const dir = mkdtempSync(join(tmpdir(), 'facet-bench-data-'));
    try {
      const synth = new SyntheticFaceDataset({ identities: 32, imagesPerIdentity: 16, seed: 1 });
      await writeDatasetFolder(synth, dir, { format: 'jpeg', quality: 95 });
      const folder = await openDataset(dir, { onWarning: () => undefined });
      const rows: BenchRow[] = [];
      // many more batches than the loader prefetches (2): otherwise a worker's head start is timed as throughput
      const batches = quick ? 8 : 24;
      const repeats = quick ? 1 : 3;
      for (const [name, ds] of [
        [`JPEG folder 112² (${folder.size} files)`, folder],
        ['synthetic faces 112² (rendered)', synth],
      ] as const) {
        const base = await imagesPerSecond(ds, 0, batches, repeats);
        for (const w of [0, 1, 2]) {
          const r = w === 0 ? base : await imagesPerSecond(ds, w, batches, repeats);
          rows.push({
            suite: 'data',
            case: `${name}, batch ${BATCH}`,
            metric: `images/s, ${w} worker${w === 1 ? '' : 's'}`,
            facet: r.median,
            facetMin: r.best,
            baseline: base.median,
            baselineMin: base.best,
            baselineName: 'same loader, 0 workers (main thread)',
            ratio: r.median / base.median,
          });
        }
      }
      const alignRepeats = quick ? 1 : 3;
      const wasm = await alignSpeed('wasm', alignRepeats);
      for (const backend of ['wasm', 'native'] as const) {
        const r = backend === 'wasm' ? wasm : await alignSpeed(backend, alignRepeats).catch((e: Error) => e);
        if (r instanceof Error) {
          console.log(`  align on ${backend}: ${r.message.split('\n')[0]}`);
          continue;
        }
        rows.push({
          suite: 'data',
          case: 'facet data align, 34 real photos (≤ 300 px, 1 face each), SSD MobileNet v1 + 68 landmarks → 112² PNG',
          metric: `images/s, ${backend} engine`,
          facet: r.median,
          facetMin: r.best,
          baseline: wasm.median,
          baselineMin: wasm.best,
          baselineName: 'same pipeline on wasm',
          ratio: r.median / wasm.median,
          note: `detection rate ${(100 * r.detectionRate).toFixed(1)} %; ${machineLoad()}`,
        });
      }
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
