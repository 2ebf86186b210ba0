import { mkdirSync, symlinkSync } from 'node:fs';
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

  it('finds an explicit path under another image extension (an aligned copy stores a/1.jpg as a/1.png)', async () => {
    const pairs = join(root, 'aligned-names.txt');
    writeFile(pairs, 'Zoe_Ball/Zoe_Ball_0001.jpg Abel_Pacheco/Abel_Pacheco_0002.jpeg 0\n');
    const set = await loadPairs(pairs, join(root, 'lfw'), { imageSize: S });
    expect(same(set.imagesA[0]!, px.get('Zoe_Ball/Zoe_Ball_0001.png')!)).toBe(true);
    expect(same(set.imagesB[0]!, px.get('Abel_Pacheco/Abel_Pacheco_0002.png')!)).toBe(true);
  });

  it('a pairs file naming missing images fails with the line, or drops those pairs with skipBad', async () => {
    const pairs = join(root, 'missing.txt');
    writeFile(pairs, 'Abel_Pacheco\t1\t2\nAbel_Pacheco\t1\t7\nNobody\t1\tZoe_Ball\t1\n');
    await expect(loadPairs(pairs, join(root, 'lfw'), { imageSize: S })).rejects.toThrow(
      /missing\.txt: 2 image\(s\) named in the pairs file are missing or unreadable under .*lfw \(line 2: .*Abel_Pacheco_0007\.jpg \(missing\); line 3: .*Nobody_0001\.jpg \(missing\)\).*--skip-bad/,
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

  it('a fourth column of fold ids is kept per pair; a file mixing rows with and without one is refused at the line', async () => {
    const pairs = join(root, 'folds.txt');
    const A1 = 'Abel_Pacheco/Abel_Pacheco_0001.png';
    const A2 = 'Abel_Pacheco/Abel_Pacheco_0002.png';
    const Z1 = 'Zoe_Ball/Zoe_Ball_0001.png';
    writeFile(pairs, `# pathA pathB same fold\n${A1} ${A2} 1 3\n${A1} ${Z1} 0 1\n${A2} ${Z1} 0 3\n${A2} ${A1} 1 -2\n`);
    const set = await loadPairs(pairs, join(root, 'lfw'), { imageSize: S });
    expect(set.issame).toEqual([true, false, false, true]);
    expect(set.foldIds).toEqual([3, 1, 3, -2]);
    expect(same(set.imagesB[1]!, px.get(Z1)!)).toBe(true);
    // without a fold column there are no fold ids (contiguous folds downstream)
    expect((await loadPairs(join(root, 'pairs.txt'), join(root, 'lfw'), { imageSize: S })).foldIds).toBeUndefined();

    const mixed = join(root, 'mixed.txt');
    writeFile(mixed, `${A1} ${A2} 1 0\n${A1} ${Z1} 0 1\n\n${A2} ${Z1} 0\n`);
    await expect(loadPairs(mixed, join(root, 'lfw'), { imageSize: S })).rejects.toThrow(/mixed\.txt:4: has no fold column, but line 1 has one\. Give every pair a fold id/);
    writeFile(mixed, `Abel_Pacheco\t1\t2\n${A1} ${Z1} 0 1\n`);
    await expect(loadPairs(mixed, join(root, 'lfw'), { imageSize: S })).rejects.toThrow(/mixed\.txt:2: has a fold column, but line 1 has none/);
    writeFile(mixed, `${A1} ${A2} 1 5\n${A1} ${Z1} 0 5\n`);
    await expect(loadPairs(mixed, join(root, 'lfw'), { imageSize: S })).rejects.toThrow(/mixed\.txt: every pair is in fold 5; a fold column needs at least 2 folds/);
    writeFile(mixed, `${A1} ${A2} 1 x\n`);
    await expect(loadPairs(mixed, join(root, 'lfw'), { imageSize: S })).rejects.toThrow(/mixed\.txt:1: cannot parse .*"pathA pathB 1\|0 fold"/);
  });

  it('a root of symbolic links to identity folders reads the same images; broken links are named, not dropped', async () => {
    const links = join(root, 'linked');
    mkdirSync(links, { recursive: true });
    symlinkSync(join(root, 'lfw', 'Abel_Pacheco'), join(links, 'Abel_Pacheco'));
    symlinkSync(join(root, 'lfw', 'Zoe_Ball'), join(links, 'Zoe_Ball'));
    const real = await loadPairs(join(root, 'pairs.txt'), join(root, 'lfw'), { imageSize: S });
    const viaLinks = await loadPairs(join(root, 'pairs.txt'), links, { imageSize: S });
    expect(viaLinks.issame).toEqual(real.issame);
    viaLinks.imagesA.forEach((a, i) => expect(same(a, real.imagesA[i]!)).toBe(true));
    viaLinks.imagesB.forEach((b, i) => expect(same(b, real.imagesB[i]!)).toBe(true));

    const dangling = join(root, 'dangling');
    mkdirSync(join(dangling, 'Abel_Pacheco'), { recursive: true });
    symlinkSync(join(root, 'lfw', 'Abel_Pacheco', 'Abel_Pacheco_0001.png'), join(dangling, 'Abel_Pacheco', 'Abel_Pacheco_0001.png'));
    symlinkSync(join(root, 'gone.png'), join(dangling, 'Abel_Pacheco', 'Abel_Pacheco_0002.png'));
    const p = join(root, 'one.txt');
    writeFile(p, 'Abel_Pacheco/Abel_Pacheco_0001.png Abel_Pacheco/Abel_Pacheco_0002.png 1\nAbel_Pacheco/Abel_Pacheco_0001.png Abel_Pacheco/Abel_Pacheco_0001.png 1\n');
    await expect(loadPairs(p, dangling, { imageSize: S })).rejects.toThrow(/line 1: .*Abel_Pacheco_0002\.png \(broken symbolic link to .*gone\.png\)/);
    const set = await loadPairs(p, dangling, { imageSize: S, skipBad: true, onWarning: () => undefined });
    expect(set.issame).toEqual([true]);
    expect(set.skipped).toEqual([expect.stringMatching(/^line 1: .*Abel_Pacheco_0002\.png broken symbolic link to .*gone\.png$/)]);
  });
});
