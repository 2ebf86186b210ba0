import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPairs } from '../src/verification/pairs.js';
import { encodeWithSharp, noise, tmpDir, writeFile } from './fixtures.js';

const S = 12;
let root: string;
let cleanup: () => void;
const px = new Map<string, Uint8Array>();
beforeAll(async () => {
  ({ dir: root, cleanup } = tmpDir('pairs'));
  let seed = 1;
  for (const [name, n] of [['Abel_Pacheco', 2], ['Zoe_Ball', 1]] as const) {
    for (let i = 1; i <= n; i++) {
      const p = noise(S, S, seed++);
      const rel = `${name}/${name}_${String(i).padStart(4, '0')}.png`;
      px.set(rel, p);
      writeFile(join(root, 'lfw', rel), await encodeWithSharp(p, S, S, 'png'));
    }
  }
});
afterAll(() => cleanup());

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('LFW-style pairs.txt', () => {
  it('reads the header, genuine and impostor lines, and explicit-path lines', async () => {
    const pairs = join(root, 'pairs.txt');
    writeFile(pairs, '1\t3\nAbel_Pacheco\t1\t2\nAbel_Pacheco\t2\tZoe_Ball\t1\nZoe_Ball/Zoe_Ball_0001.png Abel_Pacheco/Abel_Pacheco_0001.png 0\n');
    const set = await loadPairs(pairs, join(root, 'lfw'), { imageSize: S });
    expect(set.issame).toEqual([true, false, false]);
    expect(same(set.imagesA[0]!, px.get('Abel_Pacheco/Abel_Pacheco_0001.png')!)).toBe(true);
    expect(same(set.imagesB[0]!, px.get('Abel_Pacheco/Abel_Pacheco_0002.png')!)).toBe(true);
    expect(same(set.imagesB[1]!, px.get('Zoe_Ball/Zoe_Ball_0001.png')!)).toBe(true);
    expect(same(set.imagesA[2]!, px.get('Zoe_Ball/Zoe_Ball_0001.png')!)).toBe(true);
  });

  it('a pairs file naming missing images fails with the line, or drops those pairs with skipBad', async () => {
    const pairs = join(root, 'missing.txt');
    writeFile(pairs, 'Abel_Pacheco\t1\t2\nAbel_Pacheco\t1\t7\nNobody\t1\tZoe_Ball\t1\n');
    await expect(loadPairs(pairs, join(root, 'lfw'), { imageSize: S })).rejects.toThrow(
      /missing\.txt: 2 image\(s\) named in the pairs file are missing under .*lfw \(line 2: .*Abel_Pacheco_0007\.jpg; line 3: .*Nobody_0001\.jpg\).*--skip-bad/,
    );
    const warnings: string[] = [];
    const set = await loadPairs(pairs, join(root, 'lfw'), { imageSize: S, skipBad: true, onWarning: (m) => warnings.push(m) });
    expect(set.issame).toEqual([true]);
    expect(set.skipped).toEqual([expect.stringMatching(/^line 2: .*missing$/), expect.stringMatching(/^line 3: .*Nobody_0001\.jpg missing$/)]);
    expect(warnings[0]).toMatch(/skipped 2 pair\(s\); 1 of 3 kept/);
  });

  it('unparseable lines and a missing root are named', async () => {
    const pairs = join(root, 'bad.txt');
    writeFile(pairs, 'Abel_Pacheco 1 2\nthis line is wrong\n');
    await expect(loadPairs(pairs, join(root, 'lfw'))).rejects.toThrow(/bad\.txt:2: cannot parse "this line is wrong"/);
    await expect(loadPairs(pairs, join(root, 'nowhere'))).rejects.toThrow(/nowhere: image folder for .*bad\.txt not found/);
    await expect(loadPairs(join(root, 'none.txt'), root)).rejects.toThrow(/none\.txt: cannot read the pairs file/);
  });
});
