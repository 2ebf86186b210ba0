// The README's table of config flags is generated from the config schema (the same text --help shows); this keeps
// the two equal. FACET_UPDATE_README=1 rewrites the table in place instead of failing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFieldsMarkdown } from '../src/config.js';

const README = join(__dirname, '..', '..', '..', 'README.md');
const START = '<!-- config-table:start (generated from libs/train/src/config.ts; FACET_UPDATE_README=1 npx vitest run test/readme-config.test.ts in libs/train) -->';
const END = '<!-- config-table:end -->';

describe('README config table', () => {
  it('equals the table generated from the config schema', () => {
    const text = readFileSync(README, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    expect(a, `README.md has no ${START} marker`).toBeGreaterThan(-1);
    expect(b).toBeGreaterThan(a);
    const current = text.slice(a + START.length, b).trim();
    const expected = configFieldsMarkdown();
    if (process.env.FACET_UPDATE_README && current !== expected) {
      writeFileSync(README, `${text.slice(0, a + START.length)}\n${expected}\n${text.slice(b)}`);
      return;
    }
    expect(current).toBe(expected);
  });
});
