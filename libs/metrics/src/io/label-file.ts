import { readFileSync } from 'node:fs';

export interface LabelFile {
  /** Class index per row. */
  labels: Int32Array;
  /** For string labels: the name of each class index (sorted); absent for integer labels. */
  names?: string[];
}

/**
 * Parse labels given as JSON: an array of non-negative integers or of strings (identity names, mapped to
 * indices in sorted order), or an object with such an array under "labels".
 */
export function parseLabelJson(value: unknown, name = 'labels'): LabelFile {
  const list = Array.isArray(value) ? value : value && typeof value === 'object' && Array.isArray((value as { labels?: unknown }).labels) ? (value as { labels: unknown[] }).labels : undefined;
  if (!list) throw new Error(`${name}: expected a JSON array of labels (integers or strings) or { "labels": [...] }.`);
  if (list.every((v) => typeof v === 'string')) {
    const names = [...new Set(list as string[])].sort();
    const index = new Map(names.map((s, i) => [s, i]));
    return { labels: Int32Array.from(list as string[], (s) => index.get(s)!), names };
  }
  list.forEach((v, i) => {
    if (!Number.isInteger(v) || (v as number) < 0) {
      throw new Error(`${name}[${i}] = ${JSON.stringify(v)}: labels must all be non-negative integers or all be strings.`);
    }
  });
  return { labels: Int32Array.from(list as number[]) };
}

export function readLabelFile(path: string): LabelFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read labels file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`labels file ${path} is not valid JSON: ${(e as Error).message}.`);
  }
  return parseLabelJson(value, path);
}
