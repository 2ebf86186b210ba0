import { Flags } from '@oclif/core';

/**
 * The one meaning of `-o/--out` across commands (eval, measure, invert, quality, embed, import): the folder the
 * command writes its results into, made if missing. Only `facet export` names a file, because it writes exactly one.
 */
export function outFolderFlag(defaultFolder: string, what: string) {
  return Flags.string({ char: 'o', description: `output folder: ${what} (made if missing)`, default: defaultFolder });
}

/** A file name given where a folder is expected is almost always the old habit of a file flag: say so. */
export function checkOutFolder(out: string, writes: string): void {
  if (/\.(csv|json|npy|png|svg|txt)$/i.test(out)) {
    throw new Error(`--out ${out} looks like a file name; --out is the output folder in every facet command (this one writes ${writes} into it).`);
  }
}
