// Bad input: one line naming the file and what is wrong, and nothing executed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '@facet/engine';
import { importModel, readStateDictFile, readTorchFile, writeTorchStateDict, TORCH_GLOBALS, type StateDict } from '../src/index.js';
import { unpickle } from '../src/pickle/unpickle.js';
import { writeStoredZip } from '../src/torch/zip-write.js';
import { fixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'facet-interop-err-'));
const marker = join(tmp, 'executed');

beforeAll(async () => {
  await initEngine({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function importError(file: string, opts?: Parameters<typeof importModel>[1]): Promise<string> {
  try {
    const b = await importModel(file, opts);
    b.dispose();
  } catch (e) {
    const message = (e as Error).message;
    expect(message).not.toMatch(/\n/);
    expect(message).toContain(file);
    return message;
  }
  throw new Error(`${file} was imported`);
}

function write(name: string, data: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, data);
  return path;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A .pth whose data.pkl is `pkl`, in PyTorch's zip layout. */
function zipWithPickle(pkl: Uint8Array): Uint8Array {
  return writeStoredZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/version', data: latin1('3\n') },
  ]);
}

describe('refusals', () => {
  it('a real torch.save file whose pickle calls os.system is refused, naming the global, and nothing runs', async () => {
    const m = await importError(fixture('malicious.pth'));
    expect(m).toMatch(/pickle refers to posix\.system, which a state dict never needs; refusing to load it \(Facet never executes pickles\)/);
  });

  it('hand-built pickles: protocol-0 GLOBAL os.system, protocol-4 STACK_GLOBAL builtins.eval, INST', async () => {
    const p0 = write('p0.pth', zipWithPickle(latin1(`cos\nsystem\n(S'touch ${marker}'\ntR.`)));
    expect(await importError(p0)).toMatch(/refers to os\.system/);
    // PROTO 4, SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', STACK_GLOBAL, …
    const p4 = Uint8Array.from([0x80, 4, 0x8c, 8, ...latin1('builtins'), 0x8c, 4, ...latin1('eval'), 0x93, 0x8c, 1, ...latin1('1'), 0x85, 0x52, 0x2e]);
    expect(await importError(write('p4.pth', zipWithPickle(p4)))).toMatch(/refers to builtins\.eval/);
    const inst = write('inst.pth', zipWithPickle(latin1(`(S'x'\nisubprocess\nPopen\n.`)));
    expect(await importError(inst)).toMatch(/instantiates a class/);
    expect(existsSync(marker)).toBe(false);
  });

  it('REDUCE of something that is not an allowed global is refused', () => {
    // EMPTY_TUPLE EMPTY_TUPLE REDUCE: "calls" a tuple
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x29, 0x29, 0x52, 0x2e]), { globals: TORCH_GLOBALS, source: 'x.pkl' })).toThrow(
      /x\.pkl: malformed pickle \(REDUCE applies something that is not one of the allowed globals\)/,
    );
  });
});

describe('damaged files', () => {
  it('a truncated zip .pth', async () => {
    const b = readFileSync(fixture('iresnet18.pth'));
    const m = await importError(write('trunc.pth', b.subarray(0, b.length >> 1)));
    expect(m).toMatch(/not a readable zip archive .*truncated or damaged/);
  });

  it('a truncated legacy .pth, inside the pickle and inside the storages', async () => {
    const b = readFileSync(fixture('ir_tiny_legacy.pth'));
    expect(await importError(write('l1.pth', b.subarray(0, 200)))).toMatch(/pickle ends early.*; the file is truncated/);
    expect(await importError(write('l2.pth', b.subarray(0, b.length - 10)))).toMatch(/ends (before|inside) storage .*truncated/);
  });

  it('a truncated safetensors file', async () => {
    const b = readFileSync(fixture('ir_tiny.safetensors'));
    expect(await importError(write('t.safetensors', b.subarray(0, b.length - 100)))).toMatch(/ends at byte \d+ of \d+ data bytes; the file is truncated/);
    expect(await importError(write('h.safetensors', b.subarray(0, 40)))).toMatch(/header length \d+ runs past the end/);
  });

  it('a storage missing from the archive', async () => {
    const sd = (await readStateDictFile(fixture('ir_tiny_legacy.pth'))).stateDict;
    const pth = writeTorchStateDict(sd);
    // drop data/3 by rewriting the archive without it
    const { unzipSync } = await import('fflate');
    const files = unzipSync(pth);
    delete files['archive/data/3'];
    const broken = writeStoredZip(Object.entries(files).map(([name, data]) => ({ name, data })));
    expect(await importError(write('nodata.pth', broken))).toMatch(/storage data\/3 is missing from the archive/);
  });

  it('random bytes, an empty file, a missing file', async () => {
    expect(await importError(write('r.pth', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])))).toMatch(/not a PyTorch checkpoint/);
    expect(await importError(write('e.pth', new Uint8Array(0)))).toMatch(/is empty/);
    expect(await importError(join(tmp, 'nope.pth'))).toMatch(/no such file/);
  });
});

describe('wrong contents', () => {
  it('a state dict of another architecture names what it has and what was looked for', async () => {
    const m = await importError(fixture('other_arch.pth'));
    expect(m).toMatch(/not an insightface IResNet .* it has 9 tensors \(0\.weight \[4,3,3,3\]/);
    expect(m).toMatch(/--network/);
  });

  it('a tensor of the wrong shape is named with both shapes', async () => {
    const sd: StateDict = new Map((await readStateDictFile(fixture('ir_tiny_legacy.pth'))).stateDict);
    const t = sd.get('layer3.0.conv1.weight')!; // [8, 4, 3, 3]
    sd.set('layer3.0.conv1.weight', { dtype: 'F32', shape: [8, 2, 3, 3], data: t.data.slice(0, 8 * 2 * 9 * 4) });
    const m = await importError(write('shape.pth', writeTorchStateDict(sd)));
    expect(m).toMatch(/does not fit iresnet18 .*wrong shapes: layer3\.0\.conv1\.weight is \[8,2,3,3\], iresnet18 needs \[8,4,3,3\]/);
  });

  it('a missing tensor, and --network naming another depth', async () => {
    const sd: StateDict = new Map((await readStateDictFile(fixture('ir_tiny_legacy.pth'))).stateDict);
    sd.delete('layer2.0.prelu.weight');
    expect(await importError(write('missing.pth', writeTorchStateDict(sd)))).toMatch(/missing: layer2\.0\.prelu\.weight/);
    const m = await importError(fixture('ir_tiny_legacy.pth'), { network: 'r50' });
    expect(m).toMatch(/does not fit r50|does not fit iresnet50/);
    expect(m).toMatch(/missing: layer1\.1\.bn1\.weight/);
  });

  it('options are validated at the boundary', async () => {
    await expect(importModel(fixture('mbf.pth'), { inputSize: 100 })).rejects.toThrow(/inputSize 100 gives a 7×7 final map but the weights need 4×4 \(any side from 49 to 64\)/);
    await expect(importModel(fixture('mbf.pth'), { bogus: 1 } as never)).rejects.toThrow(/importModel: unknown option bogus/);
    await expect(importModel(fixture('mbf.pth'), { inputSize: -3 })).rejects.toThrow(/inputSize must be a positive integer/);
  });

  it('a non-contiguous tensor is refused, saying so', () => {
    // OrderedDict() with one tensor whose stride is transposed: size (2,3), stride (1,2)
    const pkl = latin1(
      '\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06tQK\x00K\x02K\x03\x86K\x01K\x02\x86\x89ccollections\nOrderedDict\n)RtRu.',
    );
    const zip = writeStoredZip([
      { name: 'a/data.pkl', data: pkl },
      { name: 'a/data/0', data: new Uint8Array(24) },
    ]);
    expect(() => readTorchFile(zip, 't.pth')).toThrow(/t\.pth: tensor w is not contiguous \(size \[2,3\], stride \[1,2\]\)/);
  });
});
