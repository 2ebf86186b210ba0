// facet data inspect: what is in a dataset, before training on it — image and identity counts, the images-per-
// identity distribution (histogram and long-tail summary), image sizes and formats, unreadable files.

import { readFile } from 'node:fs/promises';
import { DataError, reason } from './errors.js';
import { scanImageFolder } from './folder-dataset.js';
import { decodeImage } from './image/decode.js';
import { probeImage } from './image/probe.js';
import { resolveSource, type DatasetKind } from './open.js';
import { mapPool } from './pool.js';
import { RecordIODataset } from './rec-dataset.js';
import { parseSyntheticSource, SyntheticFaceDataset } from './synthetic/dataset.js';

export interface PerIdentityStats {
  min: number;
  max: number;
  mean: number;
  median: number;
  p10: number;
  p90: number;
  /** Power-of-two buckets [from, to] of images per identity → number of identities. */
  histogram: Array<{ from: number; to: number; identities: number }>;
  /** Identities with a single image (useless for genuine pairs). */
  singletons: number;
  /** Identities with fewer than 5 images. */
  under5: number;
  /** Share of all images held by the largest 10 % of identities (0.1 = perfectly balanced). */
  top10PercentShare: number;
}

export interface DatasetReport {
  source: string;
  kind: DatasetKind;
  images: number;
  identities: number;
  perIdentity: PerIdentityStats;
  /** "W×H" → count, most common first. */
  sizes: Array<{ size: string; count: number }>;
  formats: Record<string, number>;
  unreadable: Array<{ item: string; reason: string }>;
  emptyIdentities: string[];
  ignoredFiles: string[];
  /** Linked folders not followed (a loop, or a second link to images already counted), with the reason. */
  skippedLinks: Array<{ item: string; reason: string }>;
  /** Whether every image was fully decoded (else only headers were read). */
  decoded: boolean;
  seconds: number;
}

export interface InspectOptions {
  /** Decode every image to find truncated/corrupt ones (default true); false reads headers only. */
  decode?: boolean;
  /** Cap on images examined for sizes/formats/unreadable (default all). Counts always cover everything. */
  sample?: number;
  onProgress?: (done: number, total: number) => void;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function perIdentityStats(counts: number[]): PerIdentityStats {
  const sorted = [...counts].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  const histogram: PerIdentityStats['histogram'] = [];
  const max = sorted[sorted.length - 1] ?? 0;
  for (let from = 1; from <= Math.max(1, max); from *= 2) {
    const to = from * 2 - 1;
    histogram.push({ from, to, identities: sorted.filter((c) => c >= from && c <= to).length });
  }
  const top = Math.max(1, Math.ceil(sorted.length * 0.1));
  const topSum = sorted.slice(-top).reduce((a, b) => a + b, 0);
  return {
    min: sorted[0] ?? 0,
    max,
    mean: sorted.length ? total / sorted.length : 0,
    median: quantile(sorted, 0.5),
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    histogram,
    singletons: sorted.filter((c) => c === 1).length,
    under5: sorted.filter((c) => c < 5).length,
    top10PercentShare: total ? topSum / total : 0,
  };
}

function countsOf(labels: Int32Array, numClasses: number): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (const l of labels) c[l]!++;
  return c;
}

function pickSample(n: number, sample?: number): number[] {
  if (!sample || sample >= n) return Array.from({ length: n }, (_, i) => i);
  const step = n / sample;
  return Array.from({ length: sample }, (_, k) => Math.floor(k * step));
}

/** Inspect a folder, .rec or synthetic source. Never throws for bad images: they are listed in `unreadable`. */
export async function inspectDataset(source: string, opts: InspectOptions = {}): Promise<DatasetReport> {
  const t0 = performance.now();
  const decode = opts.decode ?? true;
  const { kind, path } = resolveSource(source);
  const sizes = new Map<string, number>();
  const formats: Record<string, number> = {};
  const unreadable: DatasetReport['unreadable'] = [];
  const note = (size: string | null, format: string | null) => {
    if (size) sizes.set(size, (sizes.get(size) ?? 0) + 1);
    if (format) formats[format] = (formats[format] ?? 0) + 1;
  };
  const examine = async (bytes: Uint8Array, item: string) => {
    const p = probeImage(bytes);
    if (!p) {
      unreadable.push({ item, reason: bytes.length ? 'not a JPEG/PNG/BMP/PGM image' : 'empty file' });
      return;
    }
    if (decode || p.width === undefined) {
      try {
        const img = await decodeImage(bytes, item);
        note(`${img.width}×${img.height}`, p.format);
      } catch (e) {
        unreadable.push({ item, reason: reason(e) });
      }
    } else note(`${p.width}×${p.height}`, p.format);
  };
  let report: Omit<DatasetReport, 'sizes' | 'formats' | 'unreadable' | 'seconds' | 'decoded'>;
  if (kind === 'synthetic') {
    const ds = new SyntheticFaceDataset(parseSyntheticSource(source)!);
    sizes.set(`${ds.imageSize}×${ds.imageSize}`, ds.size);
    formats.synthetic = ds.size;
    report = { source, kind, images: ds.size, identities: ds.numClasses, perIdentity: perIdentityStats(countsOf(ds.labels, ds.numClasses)), emptyIdentities: [], ignoredFiles: [], skippedLinks: [] };
  } else if (kind === 'rec') {
    const ds = await RecordIODataset.open(path, { check: 'none', onWarning: () => undefined });
    const picks = pickSample(ds.size, opts.sample);
    let done = 0;
    await mapPool(picks.length, 16, async (k) => {
      const i = picks[k]!;
      try {
        await examine(await ds.readEncoded(i), ds.describe(i));
      } catch (e) {
        unreadable.push({ item: ds.describe(i), reason: reason(e) });
      }
      opts.onProgress?.(++done, picks.length);
    });
    ds.close();
    report = { source, kind, images: ds.size, identities: ds.numClasses, perIdentity: perIdentityStats(countsOf(ds.labels, ds.numClasses)), emptyIdentities: [], ignoredFiles: [], skippedLinks: [] };
  } else {
    const scan = await scanImageFolder(path);
    for (const b of scan.brokenLinks) unreadable.push({ item: b.file, reason: b.reason });
    const picks = pickSample(scan.files.length, opts.sample);
    let done = 0;
    await mapPool(picks.length, 16, async (k) => {
      const f = scan.files[picks[k]!]!;
      try {
        await examine(await readFile(f), f);
      } catch (e) {
        unreadable.push({ item: f, reason: reason(e) });
      }
      opts.onProgress?.(++done, picks.length);
    });
    if (scan.files.length === 0) throw new DataError(`${path}: no images found (${scan.emptyClasses.length} empty identity folders)`, path);
    report = {
      source,
      kind,
      images: scan.files.length,
      identities: scan.classNames.length,
      perIdentity: perIdentityStats(countsOf(scan.labels, scan.classNames.length)),
      emptyIdentities: scan.emptyClasses,
      ignoredFiles: scan.ignored,
      skippedLinks: scan.skippedLinks.map((l) => ({ item: l.file, reason: l.reason })),
    };
  }
  unreadable.sort((a, b) => (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
  return {
    ...report,
    sizes: [...sizes.entries()].sort((a, b) => b[1] - a[1]).map(([size, count]) => ({ size, count })),
    formats,
    unreadable,
    decoded: decode && kind !== 'synthetic',
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Plain-text rendering of a report (what `facet data inspect` prints). */
export function formatDatasetReport(r: DatasetReport, maxList = 10): string {
  const L: string[] = [];
  const p = r.perIdentity;
  L.push(`${r.source}  (${r.kind})`);
  L.push(`images       ${r.images}`);
  L.push(`identities   ${r.identities}`);
  L.push(`per identity min ${p.min}, p10 ${p.p10.toFixed(1)}, median ${p.median.toFixed(1)}, mean ${p.mean.toFixed(1)}, p90 ${p.p90.toFixed(1)}, max ${p.max}`);
  L.push(`long tail    ${p.singletons} with 1 image, ${p.under5} with < 5; the largest 10 % of identities hold ${(100 * p.top10PercentShare).toFixed(1)} % of images`);
  const widest = Math.max(1, ...p.histogram.map((h) => h.identities));
  L.push('histogram    images/identity → identities');
  for (const h of p.histogram) {
    const label = h.from === h.to ? `${h.from}` : `${h.from}–${h.to}`;
    L.push(`  ${label.padStart(11)} ${String(h.identities).padStart(7)} ${'█'.repeat(Math.round((40 * h.identities) / widest))}`);
  }
  L.push(`sizes        ${r.sizes.map((s) => `${s.size} ×${s.count}`).join(', ') || '—'}`);
  L.push(`formats      ${Object.entries(r.formats).map(([f, c]) => `${f} ×${c}`).join(', ') || '—'}`);
  L.push(`unreadable   ${r.unreadable.length}${r.decoded ? '' : ' (headers only; decode to find truncated files)'}`);
  for (const u of r.unreadable.slice(0, maxList)) L.push(`  ${u.item}: ${u.reason}`);
  if (r.unreadable.length > maxList) L.push(`  … ${r.unreadable.length - maxList} more (--json lists all)`);
  if (r.emptyIdentities.length) L.push(`empty identities ${r.emptyIdentities.length}: ${r.emptyIdentities.slice(0, maxList).join(', ')}`);
  if (r.skippedLinks.length) {
    L.push(`links not followed ${r.skippedLinks.length}`);
    for (const l of r.skippedLinks.slice(0, maxList)) L.push(`  ${l.item}: ${l.reason}`);
  }
  if (r.ignoredFiles.length) L.push(`ignored      ${r.ignoredFiles.length} non-image file(s), e.g. ${r.ignoredFiles[0]}`);
  L.push(`time         ${r.seconds.toFixed(1)} s`);
  return L.join('\n');
}
