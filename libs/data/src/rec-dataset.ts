// insightface training sets in MXNet RecordIO (MS1MV2/MS1MV3 "faces_emore", Glint360K, WebFace shards), read
// directly the way arcface_torch's MXFaceDataset does:
//   record 0 with flag > 0 and label [a, b]  ⇒ image keys 1..a-1, identity records a..b-1 (label [start, end));
//   otherwise (plain im2rec output)          ⇒ every key in the .idx is an image.
// Each image's label is its header label (label[0] when it carries an array).

import { existsSync } from 'node:fs';
import { DataError, reason } from './errors.js';
import { decodeImage } from './image/decode.js';
import { fitToSquare } from './image/resample.js';
import { labelMapPathForRec, readLabelMap } from './label-map.js';
import { mapPool } from './pool.js';
import { RecordIOFile, unpackIRRecord } from './recordio.js';
import { syntheticClassName } from './synthetic/dataset.js';
import type { DatasetDescriptor, DecoderChoice, FaceDataset, OpenDatasetOptions } from './types.js';

/** float32 holds every integer exactly only up to 2^24; beyond it identity-record ranges may be off by one. */
const FLOAT32_EXACT = 2 ** 24;

export class RecordIODataset implements FaceDataset {
  readonly size: number;
  readonly numClasses: number;

  constructor(
    readonly name: string,
    private readonly rec: RecordIOFile,
    /** RecordIO key of each image. */
    readonly keys: Float64Array,
    readonly labels: Int32Array,
    readonly classNames: string[],
    readonly imageSize: number,
    readonly decoder: DecoderChoice = 'auto',
    readonly strict = false,
    /** Labels came from identity records: verify each image header on read. */
    private readonly checkLabels = false,
  ) {
    this.size = keys.length;
    this.numClasses = classNames.length;
  }

  static async open(recPath: string, opts: OpenDatasetOptions = {}): Promise<RecordIODataset> {
    const warn = opts.onWarning ?? ((m: string) => console.warn(m));
    const size = opts.imageSize ?? 112;
    const rec = await RecordIOFile.open(recPath);
    let keys: number[];
    let labels: Int32Array | null = null;
    let numClasses = 0;
    let identityRange: [number, number] | null = null;
    const h0 = rec.has(0) ? await rec.readHeader(0) : null;
    if (h0 && h0.flag > 0) {
      const a = Math.trunc(h0.labels[0]!);
      const b = h0.flag > 1 ? Math.trunc(h0.labels[1]!) : a;
      if (!(a >= 1) || b < a) throw new DataError(`${recPath}: record 0 header label [${Array.from(h0.labels).join(', ')}] is not an insightface [first identity record, end) pair`, recPath);
      keys = [];
      for (let k = 1; k < a; k++) keys.push(k);
      const missing = keys.filter((k) => !rec.has(k));
      if (missing.length) throw new DataError(`${recPath}: header says images are keys 1..${a - 1} but ${missing.length} are not in ${rec.idxPath} (e.g. ${missing[0]}); the .idx is incomplete: rebuild it with \`facet data reindex ${recPath}\``, recPath);
      identityRange = [a, b];
      numClasses = b - a;
    } else {
      keys = Array.from(rec.keys);
    }
    if (keys.length === 0) throw new DataError(`${recPath}: holds no image records`, recPath);

    // labels from identity records (fast: one read per identity) when exact, else from every image header
    const useIdentityRecords = (opts.recLabels ?? 'auto') === 'auto' && identityRange !== null && identityRange[1] < FLOAT32_EXACT && numClasses > 0;
    if (useIdentityRecords) {
      labels = await labelsFromIdentityRecords(rec, identityRange!, keys.length);
      if (!labels) warn(`${recPath}: identity records do not tile the image keys; reading each image's own label instead`);
    }
    let checkLabels = !!labels;
    if (!labels) {
      checkLabels = false;
      const hs = await mapPool(keys.length, 64, (i) => rec.readHeader(keys[i]!, 2));
      labels = new Int32Array(keys.length);
      let max = -1;
      for (let i = 0; i < hs.length; i++) {
        const l = hs[i]!.labels[0]!;
        if (!Number.isInteger(l) || l < 0) throw new DataError(`${recPath}: record ${keys[i]} has label ${l}; expected a non-negative integer class index`, recPath);
        labels[i] = l;
        if (l > max) max = l;
      }
      if (numClasses && max >= numClasses) throw new DataError(`${recPath}: label ${max} ≥ the ${numClasses} identities record 0 announces; the file is inconsistent`, recPath);
      numClasses = Math.max(numClasses, max + 1);
    }

    let classNames = Array.from({ length: numClasses }, (_, k) => syntheticClassName(k));
    const mapPath = labelMapPathForRec(recPath);
    if (existsSync(mapPath)) {
      try {
        const m = await readLabelMap(mapPath);
        if (m.numClasses === numClasses) classNames = m.classNames;
        else warn(`${mapPath}: has ${m.numClasses} names for ${numClasses} identities; ignoring it`);
      } catch (e) {
        warn(`${mapPath}: ignored (${reason(e)})`);
      }
    }
    const ds = new RecordIODataset(recPath, rec, Float64Array.from(keys), labels, classNames, size, opts.decoder ?? 'auto', opts.strict ?? false, checkLabels);
    if (opts.check === 'decode') {
      const bad: string[] = [];
      await mapPool(ds.size, 16, async (i) => {
        try {
          await ds.read(i);
        } catch (e) {
          bad.push(`${ds.describe(i)}: ${reason(e)}`);
        }
      });
      if (bad.length) {
        const list = bad.slice(0, 5).join('; ') + (bad.length > 5 ? `; … (${bad.length} in all)` : '');
        if (!opts.skipBad) throw new DataError(`${recPath}: ${bad.length} unreadable record(s): ${list}. Pass --skip-bad to skip them during training.`, recPath);
        warn(`${recPath}: ${bad.length} unreadable record(s) will be skipped when loading: ${list}`);
      }
    }
    return ds;
  }

  private async readRecord(index: number): Promise<{ label: number; payload: Uint8Array }> {
    const key = this.keys[index];
    if (key === undefined) throw new RangeError(`${this.name}: index ${index} outside [0, ${this.size})`);
    const src = `${this.name} record ${key}`;
    const { header, payload } = unpackIRRecord(await this.rec.read(key), src);
    return { label: header.labels[0]!, payload };
  }

  async read(index: number): Promise<Uint8Array> {
    const { label, payload } = await this.readRecord(index);
    const src = this.describe(index);
    if (this.checkLabels && label !== this.labels[index]) {
      throw new DataError(
        `${src}: header label ${label} disagrees with the identity records (${this.labels[index]}). Open the set with recLabels: 'header' (CLI --rec-labels header) to use each image's own label.`,
        this.name,
      );
    }
    const img = await decodeImage(payload, src, this.decoder);
    if ((img.width !== this.imageSize || img.height !== this.imageSize) && this.strict) {
      throw new DataError(`${src}: is ${img.width}×${img.height}, not ${this.imageSize}×${this.imageSize} (--strict)`, this.name);
    }
    return fitToSquare(img, this.imageSize);
  }

  /** The encoded image bytes of image `index` (JPEG/PNG as stored). */
  async readEncoded(index: number): Promise<Uint8Array> {
    return (await this.readRecord(index)).payload;
  }

  describe(index: number): string {
    return `${this.name}#${this.keys[index] ?? index}`;
  }

  descriptor(): DatasetDescriptor {
    return {
      kind: 'rec',
      name: this.name,
      recPath: this.rec.recPath,
      keys: this.keys,
      labels: this.labels,
      classNames: this.classNames,
      imageSize: this.imageSize,
      decoder: this.decoder,
      strict: this.strict,
      checkLabels: this.checkLabels,
    };
  }

  close(): void {
    this.rec.close();
  }

  /** Re-create from a descriptor (worker threads): reopens the file and index, no label scan. */
  static async fromDescriptor(d: Extract<DatasetDescriptor, { kind: 'rec' }>): Promise<RecordIODataset> {
    const rec = await RecordIOFile.open(d.recPath);
    return new RecordIODataset(d.name, rec, d.keys, d.labels, d.classNames, d.imageSize, d.decoder, d.strict, d.checkLabels);
  }
}

/**
 * Labels from identity records a..b-1: record a+c has label [start, end) = the image keys of identity c. Returns
 * null when the ranges do not tile keys 1..n exactly (then every header is read instead).
 */
async function labelsFromIdentityRecords(rec: RecordIOFile, [a, b]: [number, number], n: number): Promise<Int32Array | null> {
  const ids: number[] = [];
  for (let k = a; k < b; k++) ids.push(k);
  if (ids.some((k) => !rec.has(k))) return null;
  const hs = await mapPool(ids.length, 64, (i) => rec.readHeader(ids[i]!, 2));
  const labels = new Int32Array(n).fill(-1);
  for (let c = 0; c < hs.length; c++) {
    const h = hs[c]!;
    if (h.flag < 2) return null;
    const start = Math.trunc(h.labels[0]!);
    const end = Math.trunc(h.labels[1]!);
    if (start < 1 || end > n + 1 || end < start) return null;
    for (let k = start; k < end; k++) {
      if (labels[k - 1] !== -1) return null;
      labels[k - 1] = c;
    }
  }
  if (labels.some((l) => l < 0)) return null;
  return labels;
}
