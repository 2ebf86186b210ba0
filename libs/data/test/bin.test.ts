import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBin, writeBin } from '../src/verification/bin.js';
import { unpickle } from '../src/verification/pickle.js';
import type { VerificationSet } from '../src/verification/types.js';
import { encodeWithSharp, noise, tmpDir } from './fixtures.js';

const S = 12;
let root: string;
let cleanup: () => void;
let pngs: Buffer[];
let pixels: Uint8Array[];
beforeAll(async () => {
  ({ dir: root, cleanup } = tmpDir('bin'));
  pixels = [0, 1, 2, 3].map((s) => noise(S, S, 100 + s));
  pngs = await Promise.all(pixels.map((p) => encodeWithSharp(p, S, S, 'png')));
});
afterAll(() => cleanup());

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const op = (...bytes: number[]) => Buffer.from(bytes);

/** Python 2 `pickle.dump((bins, issame), f, protocol=2)`: str as BINSTRING/SHORT_BINSTRING, memo BINPUTs. */
function py2Pickle(bins: Buffer[], issame: boolean[]): Buffer {
  const parts: Buffer[] = [op(0x80, 2), op(0x5d), op(0x71, 1), op(0x28)]; // PROTO 2, EMPTY_LIST, BINPUT 1, MARK
  bins.forEach((b, i) => {
    parts.push(b.length < 256 ? op(0x55, b.length) : Buffer.concat([op(0x54), u32(b.length)]), b, op(0x71, 2 + i));
  });
  parts.push(op(0x65), op(0x5d), op(0x71, 50), op(0x28)); // APPENDS, EMPTY_LIST, BINPUT, MARK
  for (const s of issame) parts.push(op(s ? 0x88 : 0x89));
  parts.push(op(0x65), op(0x86), op(0x71, 51), op(0x2e)); // APPENDS, TUPLE2, BINPUT, STOP
  return Buffer.concat(parts);
}

/** Python 3.8 `pickle.dump(..., protocol=4)`: FRAME, BINBYTES/SHORT_BINBYTES, MEMOIZE, bools NEWTRUE/NEWFALSE. */
function py3Pickle(bins: Buffer[], issame: boolean[]): Buffer {
  const body: Buffer[] = [op(0x5d), op(0x94), op(0x28)];
  for (const b of bins) body.push(b.length < 256 ? op(0x43, b.length) : Buffer.concat([op(0x42), u32(b.length)]), b, op(0x94));
  body.push(op(0x65), op(0x5d), op(0x94), op(0x28));
  for (const s of issame) body.push(op(s ? 0x88 : 0x89));
  body.push(op(0x65), op(0x86), op(0x94), op(0x2e));
  const payload = Buffer.concat(body);
  return Buffer.concat([op(0x80, 4, 0x95), u64(payload.length), payload]);
}

/** Python 2 `pickle.dump((bins, issame), f)` with the default protocol 0: STRING lines holding repr() escapes. */
function py2Protocol0(bins: Buffer[], issame: boolean[]): Buffer {
  const repr = (b: Buffer) => {
    let s = "'";
    for (const c of b) {
      if (c === 0x5c) s += '\\\\';
      else if (c === 0x27) s += "\\'";
      else if (c === 0x0a) s += '\\n';
      else if (c === 0x0d) s += '\\r';
      else if (c === 0x09) s += '\\t';
      else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
      else s += '\\x' + c.toString(16).padStart(2, '0');
    }
    return s + "'";
  };
  let memo = 0;
  let t = '((lp0\n';
  bins.forEach((b, i) => (t += `${i ? 'a' : ''}S${repr(b)}\np${++memo}\n`));
  t += `a(lp${++memo}\n`;
  issame.forEach((v, i) => (t += `${i ? 'a' : ''}I0${v ? 1 : 0}\n`));
  t += `atp${++memo}\n.`;
  return Buffer.from(t, 'latin1');
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('insightface .bin verification sets', () => {
  it('pickleparser reads hand-built protocol-2 (py2 str) and protocol-4 (bytes) pickles', async () => {
    for (const [name, bytes] of [
      ['py2', py2Pickle(pngs, [true, false])],
      ['py3', py3Pickle(pngs, [true, false])],
      ['py2p0', py2Protocol0(pngs, [true, false])],
    ] as const) {
      const file = join(root, `${name}.bin`);
      writeFileSync(file, bytes);
      const set = await loadBin(file, { imageSize: S });
      expect(set.name).toBe(name);
      expect(set.issame).toEqual([true, false]);
      expect(set.imagesA.map((a, i) => same(a, pixels[2 * i]!))).toEqual([true, true]);
      expect(set.imagesB.map((b, i) => same(b, pixels[2 * i + 1]!))).toEqual([true, true]);
    }
    // the raw bytes survive untouched, including every byte value 0..255 (no text decoding)
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const obj = unpickle(py2Pickle([all, all], [true])) as [Uint8Array[], boolean[]];
    expect(Buffer.from(obj[0][0]!).equals(all)).toBe(true);
  });

  it('writeBin → loadBin round-trips pixels and labels (protocol 4 and 2, PNG)', async () => {
    const set: VerificationSet = { name: 'x', imagesA: [pixels[0]!, pixels[1]!], imagesB: [pixels[2]!, pixels[3]!], issame: [false, true], imageSize: S };
    for (const protocol of [4, 2] as const) {
      const file = join(root, `rt${protocol}.bin`);
      await writeBin(file, set, { protocol });
      const back = await loadBin(file, { imageSize: S });
      expect(back.issame).toEqual([false, true]);
      expect(back.imagesA.every((a, i) => same(a, set.imagesA[i]!))).toBe(true);
      expect(back.imagesB.every((b, i) => same(b, set.imagesB[i]!))).toBe(true);
      expect(readFileSync(file)[1]).toBe(protocol);
    }
  });

  it('a .bin of the wrong structure gives one clear error naming the file', async () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['notpickle', Buffer.from('hello'), /not a readable pickle/],
      ['truncated', py3Pickle(pngs, [true, false]).subarray(0, 60), /not a readable pickle \(unexpected end of pickle data/],
      ['dict', op(0x80, 4, 0x7d, 0x2e), /holds object; expected an insightface verification \.bin: pickle of \(bins, issame_list\)/],
      ['count', py3Pickle(pngs.slice(0, 3), [true, false]), /3 images for 2 pair labels/],
      ['triple', Buffer.concat([op(0x80, 4, 0x5d, 0x5d, 0x5d, 0x87, 0x2e)]), /holds a 3-tuple of \(list\[0\], list\[0\], list\[0\]\)/],
      ['ints', Buffer.concat([op(0x80, 4, 0x5d, 0x28, 0x4b, 1, 0x4b, 2, 0x65, 0x5d, 0x28, 0x88, 0x65, 0x86, 0x2e)]), /bins\[0\] is number, not encoded image bytes/],
    ];
    for (const [name, bytes, re] of cases) {
      const file = join(root, `${name}.bin`);
      writeFileSync(file, bytes);
      await expect(loadBin(file), name).rejects.toThrow(new RegExp(`${name}\\.bin: .*` + re.source));
    }
    await expect(loadBin(join(root, 'missing.bin'))).rejects.toThrow(/missing\.bin: cannot read/);
  });

  it('undecodable images fail with the pair named, or are dropped and listed with skipBad', async () => {
    const file = join(root, 'badimg.bin');
    writeFileSync(file, py3Pickle([pngs[0]!, pngs[1]!, Buffer.from('broken image'), pngs[3]!], [true, false]));
    await expect(loadBin(file, { imageSize: S })).rejects.toThrow(/badimg\.bin bins\[2\] \(pair 1\): not a JPEG.*--skip-bad/);
    const warnings: string[] = [];
    const set = await loadBin(file, { imageSize: S, skipBad: true, onWarning: (m) => warnings.push(m) });
    expect(set.issame).toEqual([true]);
    expect(set.skipped).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 1 undecodable image\(s\); 1 of 2 pairs kept/);
  });

  const python = spawnSync('python3', ['-c', 'import pickle'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!python)('reads pickles written by CPython (protocols 0, 2, 4, 5) and CPython reads writeBin output', async () => {
    const hex = pngs.map((p) => p.toString('hex'));
    for (const protocol of [0, 2, 4, 5]) {
      const file = join(root, `cpython${protocol}.bin`);
      execFileSync('python3', ['-c', `import pickle,sys\nbins=[bytes.fromhex(h) for h in sys.argv[2:]]\npickle.dump((bins,[True,False]),open(sys.argv[1],'wb'),protocol=${protocol})`, file, ...hex]);
      const set = await loadBin(file, { imageSize: S });
      expect(set.issame).toEqual([true, false]);
      expect(same(set.imagesB[1]!, pixels[3]!)).toBe(true);
    }
    const set: VerificationSet = { name: 'x', imagesA: [pixels[0]!], imagesB: [pixels[1]!], issame: [true], imageSize: S };
    for (const protocol of [4, 2] as const) {
      const file = join(root, `forpy${protocol}.bin`);
      await writeBin(file, set, { protocol });
      // insightface load_bin: try pickle.load, fall back to encoding='bytes'
      const out = execFileSync('python3', ['-c', `import pickle,sys\nf=open(sys.argv[1],'rb')\ntry:\n  b,s=pickle.load(f)\nexcept UnicodeDecodeError:\n  f.seek(0); b,s=pickle.load(f,encoding='bytes')\nprint(len(b),s,b[0][:4].hex())`, file], { encoding: 'utf8' });
      expect(out.trim()).toBe('2 [True] 89504e47');
    }
  });
});
