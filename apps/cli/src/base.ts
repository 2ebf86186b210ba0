import { Command, Flags } from '@oclif/core';

/** Flags every Facet command shares. Commands stay thin: parse flags → call @facet/sdk → render. */
export abstract class FacetCommand extends Command {
  static enableJsonFlag = true;
  static baseFlags = {
    backend: Flags.string({
      char: 'b',
      description: 'tfjs backend (auto tries tfjs-node-gpu, tfjs-node, wasm, cpu); env FACET_BACKEND',
      options: ['auto', 'tensorflow', 'wasm', 'cpu'],
      env: 'FACET_BACKEND',
      default: 'auto',
    }),
  };

  /** Turn SDK errors (which name the file/flag and the fix) into one clean line, never a deep stack trace. */
  protected async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (process.env.FACET_DEBUG) return super.catch(err);
    if (err && typeof err.exitCode === 'number' && err.exitCode === 0) throw err;
    if (err?.message && !('oclif' in err)) this.error(err.message, { exit: 1 });
    return super.catch(err);
  }
}
