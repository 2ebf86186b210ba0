import cliProgress from 'cli-progress';

/** A cli-progress bar on stderr when it is a terminal; otherwise `fallback` lines (CI logs stay readable). */
export function progressBar(label: string, format: string) {
  if (!process.stderr.isTTY) return undefined;
  return new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} ${format}`, stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
