// npm run bench [-- --suite kernels,backbones] [--quick]
// Every figure is printed next to a baseline measured in the same run; results go to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineLoad, type BenchRow } from './harness.js';
import { SUITES } from './suites/index.js';

const { values } = parseArgs({ options: { suite: { type: 'string' }, quick: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' } } });
const wanted = values.suite ? values.suite.split(',') : SUITES.map((s) => s.name);
const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
if (unknown.length) {
  console.error(`--suite: unknown ${unknown.join(', ')}; available: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
const header = `# Facet bench — ${new Date().toISOString()}\n\n${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}; ${machineLoad()} at start; node ${process.version}\n`;
console.log(header);
const all: BenchRow[] = [];
let md = header;
for (const suite of SUITES.filter((s) => wanted.includes(s.name))) {
  console.log(`## ${suite.name}: ${suite.description}`);
  const rows = await suite.run({ quick: values.quick });
  all.push(...rows);
  const table = [
    `\n## ${suite.name}: ${suite.description}\n`,
    '| case | metric | Facet (median) | baseline (median) | baseline | ratio |',
    '|---|---|---:|---:|---|---:|',
    ...rows.map((r) => `| ${r.case} | ${r.metric} | ${fmt(r.facet)} | ${fmt(r.baseline)} | ${r.baselineName} | ${fmt(r.ratio)}× |${r.note ? ` ${r.note}` : ''}`),
    `\n${machineLoad()} after the suite\n`,
  ].join('\n');
  console.log(table);
  md += table;
}
mkdirSync(values.out!, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(join(values.out!, `bench-${stamp}.json`), JSON.stringify({ load: machineLoad(), rows: all }, null, 2));
writeFileSync(join(values.out!, `bench-${stamp}.md`), md);
writeFileSync(join(values.out!, 'latest.md'), md);
console.log(`\nwrote ${join(values.out!, `bench-${stamp}.{json,md}`)}`);
