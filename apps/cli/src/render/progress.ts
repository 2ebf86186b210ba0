import cliProgress from 'cli-progress';

/** A cli-progress bar on stderr when it is a terminal; otherwise `fallback` lines (CI logs stay readable). */
export function progressBar(label: string, format: string) {
  if (!process.stderr.isTTY) return undefined;
  return new cliProgress.SingleBar(
    { format: `${label} |{bar}| {value}/{total} ${format}`, stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
}

/** A done/total counter for library `onProgress(done, total)` callbacks: a bar on a terminal, silent otherwise
 * (pipes, --json, CI); the bar starts at the first update, when the total is known. */
export function countProgress(label: string, unit = 'images'): { update: (done: number, total: number) => void; stop: () => void } {
  const bar = progressBar(label, unit);
  if (!bar) return { update: () => undefined, stop: () => undefined };
  let started = false;
  return {
    update: (done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
