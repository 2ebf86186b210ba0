// A stored (uncompressed) zip in the layout PyTorch's PyTorchStreamWriter writes (caffe2/serialize/
// inline_container.cc): every entry's data starts on a 64-byte boundary, padded with an extra field of id "FB", so
// a reader can map storages in place. No compression, no zip64 (a backbone is far below 4 GiB).
import { crc32 } from 'node:zlib';

const ALIGN = 64;
const FB = 0x4246; // the 'FB' extra-field id PyTorch pads with

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

export function writeStoredZip(entries: ZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    // pad so that 30 + name + extra lands on a multiple of 64 (extra ≥ 4: id and length)
    let extra = ALIGN - ((offset + 30 + name.length + 4) % ALIGN);
    if (extra === ALIGN) extra = 0;
    extra += 4;
    const crc = crc32(e.data) >>> 0;
    const local = new Uint8Array(30 + name.length + extra);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, 0, true); // flags
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, 0, true); // time
    lv.setUint16(12, 0x21, true); // date 1980-01-01
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra, true);
    local.set(name, 30);
    lv.setUint16(30 + name.length, FB, true);
    lv.setUint16(32 + name.length, extra - 4, true);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    parts.push(local, e.data);
    central.push(c);
    offset += local.length + e.data.length;
    if (offset > 0xffffffff) throw new Error('the archive would exceed 4 GiB, which needs zip64 (not written)');
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of all) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
