import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { prepareOutput } from '../src/run-files.js';

describe('prepareOutput: where a run may write', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'facet-out-'));

  it('takes a new folder, an empty one, or one holding only hidden files', () => {
    const root = dir();
    expect(() => prepareOutput(DEFAULT_CONFIG, join(root, 'new'), {})).not.toThrow();
    mkdirSync(join(root, 'empty'));
    expect(() => prepareOutput(DEFAULT_CONFIG, join(root, 'empty'), {})).not.toThrow();
    mkdirSync(join(root, 'hidden'));
    writeFileSync(join(root, 'hidden', '.DS_Store'), '');
    expect(() => prepareOutput(DEFAULT_CONFIG, join(root, 'hidden'), {})).not.toThrow();
  });

  it('refuses a non-empty folder that is not a run unless --force, naming what is there', () => {
    const out = join(dir(), 'photos');
    mkdirSync(join(out, 'alice'), { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'x');
    expect(() => prepareOutput(DEFAULT_CONFIG, out, {})).toThrow(/output directory .*photos is not empty and holds no Facet run \(alice, notes.txt\).*--force/);
    expect(() => prepareOutput(DEFAULT_CONFIG, out, { force: true })).not.toThrow();
  });

  it('refuses a file given as the output folder', () => {
    const out = join(dir(), 'file.txt');
    writeFileSync(out, 'x');
    expect(() => prepareOutput(DEFAULT_CONFIG, out, {})).toThrow(/--output .*file.txt is a file, not a folder/);
  });

  it('still says "holds another run" for a folder with a run', () => {
    const out = dir();
    writeFileSync(join(out, 'config.json'), '{}');
    expect(() => prepareOutput(DEFAULT_CONFIG, out, {})).toThrow(/holds another run; pass --resume/);
  });
});
