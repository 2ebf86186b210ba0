// tfjs variable names are process-global; a second head or attention module in the same process (a test, a
// comparison run) gets a numbered prefix instead of failing. The first instance keeps the plain name, which is
// what checkpoints (head/<name>) record.
import { tf } from '@facet/engine';

export function freeVariablePrefix(prefix: string, suffixes: string[]): string {
  const taken = (p: string) => suffixes.some((s) => tf.engine().registeredVariables[`${p}/${s}`] !== undefined);
  if (!taken(prefix)) return prefix;
  for (let i = 1; ; i++) if (!taken(`${prefix}_${i}`)) return `${prefix}_${i}`;
}
