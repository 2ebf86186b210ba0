// One error type for every bad-input case in @facet/data: the message names the file (or option) and what to do,
// so the CLI can print it as one line; `file` lets callers collect skip lists.

export class DataError extends Error {
  override readonly name: string = 'DataError';
  constructor(
    message: string,
    /** The file or option the problem is about. */
    readonly file?: string,
    /** The problem alone (no file name, no advice), for skip lists. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Short text of an unknown thrown value (a DataError's detail when it has one). */
export function reason(e: unknown): string {
  if (e instanceof DataError && e.detail) return e.detail;
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 200);
}
