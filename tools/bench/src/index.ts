// npm run bench [-- --suite kernels,backbones] [--quick]
// Every figure is printed next to a baseline measured in the same run; results go to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, machineLoad, type BenchRow } from './harness.js';
import { SUITES } from './suites/index.js';

const { values } = parseArgs({ options: { suite: { type: 'string' }, quick: { type: 'boolean', default: false }, out: { type: 'string', default: 'bench/results' } } });
const wanted = values.suite ? values.suite.split(',') : SUITES.map((s) => s.name);
const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
if (unknown.length) {
  console.error(`--suite: unknown ${unknown.join(', ')}; available: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const header = `# Facet bench — ${new Date().toISOString()}\n\n${cpus().length}× ${cpus()[0]?.model ?? 'CPU'}; ${machineLoad()} at start; node ${process.version}\n`;
console.log(header);
const withBest = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : ` (${fmt(x)})`);
const all: BenchRow[] = [];
const allSections: Array<{ suite: string; markdown: string }> = [];
let md = header;
for (const suite of SUITES.filter((s) => wanted.includes(s.name))) {
  console.log(`## ${suite.name}: ${suite.description}`);
  const t0 = performance.now();
  const result = await suite.run({ quick: values.quick });
  const { rows, sections = [] } = Array.isArray(result) ? { rows: result } : result;
  all.push(...rows);
  allSections.push(...sections.map((markdown) => ({ suite: suite.name, markdown })));
  const table = [
    `\n## ${suite.name}: ${suite.description}\n`,
    '| case | metric | Facet median (best) | baseline median (best) | baseline | ratio |',
    '|---|---|---:|---:|---|---:|',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${r.metric} | ${fmt(r.facet)}${withBest(r.facetMin)} | ${fmt(r.baseline)}${withBest(r.baselineMin)} | ${r.baselineName} | ${fmt(r.ratio)}× |${r.note ? ` ${r.note}` : ''}`,
    ),
    ...sections.map((sec) => `\n${sec}`),
    `\n${machineLoad()} after the suite (${((performance.now() - t0) / 60000).toFixed(1)} min)\n`,
  ].join('\n');
  console.log(table);
  md += table;
}
mkdirSync(values.out!, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(join(values.out!, `bench-${stamp}.json`), JSON.stringify({ load: machineLoad(), rows: all, sections: allSections }, null, 2));
writeFileSync(join(values.out!, `bench-${stamp}.md`), md);
writeFileSync(join(values.out!, 'latest.md'), md);
console.log(`\nwrote ${join(values.out!, `bench-${stamp}.{json,md}`)}`);
