import { BACKEND_CHOICES, type BackendChoice } from '@facet/sdk';
import { Command, Flags } from '@oclif/core';
import { formatTable, type TableOptions } from './render/table.js';

/** Flags every Facet command shares. Commands stay thin: parse flags → call @facet/sdk → render. */
export abstract class FacetCommand extends Command {
  static enableJsonFlag = true;
  static baseFlags = {
    backend: Flags.string({
      char: 'b',
      description: `tfjs backend: auto takes the first that works of ${BACKEND_CHOICES.filter((b) => b !== 'auto').join(', ')}; env FACET_BACKEND`,
      options: [...BACKEND_CHOICES],
      env: 'FACET_BACKEND',
      default: 'auto',
    }),
  };

  /**
   * The backend for a command whose work is mostly kernels the native engine runs on tfjs's JavaScript fallback
   * (inversion's pixel-space ops): under `auto` it takes wasm first, measured 2.8–3× faster there (libs/native
   * README); an explicit --backend / FACET_BACKEND is kept. (face-api's detector no longer needs it: with the native
   * unary kernels `facet data align` runs 1.29× faster on native than on wasm, bench data suite 2026-12-07.)
   */
  protected preferWasmUnderAuto(backend: string): BackendChoice {
    return backend === 'auto' ? 'wasm' : (backend as BackendChoice);
  }

  /** Print a table in the CLI's one layout (render/table.ts). */
  protected table(head: string[], rows: string[][], opts?: TableOptions): void {
    for (const line of formatTable(head, rows, opts)) this.log(line);
  }

  /**
   * Errors end the command as plain, unwrapped text on stderr ("facet <command>: <message>") with a non-zero exit
   * code: SDK errors already name the file or flag and the fix, so a stack trace from inside tfjs would only hide it.
   * FACET_DEBUG=1 shows oclif's full rendering with the stack.
   */
  protected async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (process.env.FACET_DEBUG) return super.catch(err);
    const exit = err?.oclif?.exit ?? err?.exitCode;
    if (exit === 0 || err?.constructor?.name === 'ExitError') return super.catch(err);
    const message = (err?.message ?? String(err)).replace(/\u001b\[[0-9;]*m/g, '');
    const command = (this.id ?? '').replaceAll(':', ' ');
    process.stderr.write(`facet${command ? ` ${command}` : ''}: ${message}\n`);
    if (this.jsonEnabled()) process.stdout.write(JSON.stringify({ error: { message, exit: typeof exit === 'number' ? exit : 1 } }) + '\n');
    process.exitCode = typeof exit === 'number' && exit > 0 ? exit : 1;
    return undefined;
  }
}
