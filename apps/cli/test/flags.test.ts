// Every flag of every command says what it is and what it defaults to (issue: `facet train --help` once read
// "config field batchSize" for every config flag). Reads the commands' static flag definitions, as --help does.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

interface FlagDef {
  type: 'boolean' | 'option';
  description?: string;
  default?: unknown;
  hidden?: boolean;
  options?: readonly string[];
}

const commandsDir = join(__dirname, '..', 'src', 'commands');

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('flag descriptions', () => {
  it('every flag of every command has a description that states its default', async () => {
    const problems: string[] = [];
    const files = commandFiles(commandsDir);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const mod = (await import(pathToFileURL(file).href)) as { default: { baseFlags?: Record<string, FlagDef>; flags?: Record<string, FlagDef> } };
      const flags = { ...(mod.default.baseFlags ?? {}), ...(mod.default.flags ?? {}) };
      for (const [name, f] of Object.entries(flags)) {
        if (f.hidden || name === 'json') continue;
        const where = `${relative(commandsDir, file)} --${name}`;
        const d = f.description ?? '';
        if (d.length < 12 || /^config field /.test(d)) problems.push(`${where}: no real description ("${d}")`);
        // booleans default to off; an option with an oclif default shows it in --help; any other must say it
        if (f.type === 'option' && f.default === undefined && !/default|unset|\(none\)/i.test(d)) problems.push(`${where}: no default stated`);
      }
    }
    expect(problems).toEqual([]);
  });
});
