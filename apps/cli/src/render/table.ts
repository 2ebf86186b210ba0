// The one table layout of the CLI: a header, a rule, then rows; the first column left-aligned, the others
// right-aligned (they hold numbers) unless `align` says otherwise.

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Per-column alignment; default: first column left, the rest right. */
  align?: Align[];
  /** Draw a rule under the header (default true). */
  rule?: boolean;
}

/** Lines of a plain-text table; trailing spaces are trimmed. */
export function formatTable(head: string[], rows: string[][], opts: TableOptions = {}): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const align = (c: number): Align => opts.align?.[c] ?? (c === 0 ? 'left' : 'right');
  const line = (cells: string[]) =>
    head
      .map((_, c) => {
        const s = cells[c] ?? '';
        return align(c) === 'left' ? s.padEnd(widths[c]!) : s.padStart(widths[c]!);
      })
      .join('  ')
      .trimEnd();
  const out = [line(head)];
  if (opts.rule !== false) out.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of rows) out.push(line(r));
  return out;
}
