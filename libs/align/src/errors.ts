// Bad input in @facet/align is @facet/data's kind of error (a message naming the file or option and what to do,
// printed by the CLI as one line; `file` and `detail` let alignFaces list the image instead of stopping the run),
// under its own name so callers can tell which stage refused.
import { DataError, errorDetail } from '@facet/data';

export class AlignError extends DataError {
  override readonly name: string = 'AlignError';
}

/** Short text of an unknown thrown value (an error's detail when it has one). */
export const reason = errorDetail;
