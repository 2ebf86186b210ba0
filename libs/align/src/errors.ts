// One error type for bad input in @facet/align: the message names the file (or option) and what to do, so the CLI
// prints it as one line; `file` and `detail` let alignFaces list the image instead of stopping the run.

export class AlignError extends Error {
  override readonly name = 'AlignError';
  constructor(
    message: string,
    /** The file or option the problem is about. */
    readonly file?: string,
    /** The problem alone (no file name, no advice), for the lists in align.json. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Short text of an unknown thrown value (an error's detail when it has one). */
export function reason(e: unknown): string {
  if (e instanceof AlignError && e.detail) return e.detail;
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 200);
}
