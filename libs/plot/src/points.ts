import type { AxisScale } from './types.js';

/**
 * Keep the points a scale can draw: finite coordinates, and positive ones on a log axis. Returns how many were
 * dropped so that the chart can say so in its subtitle instead of losing them silently.
 */
export function drawablePoints<T extends { x: number; y: number }>(
  points: readonly T[],
  xScale: AxisScale,
  yScale: AxisScale,
): { kept: T[]; dropped: number } {
  const kept = points.filter(
    (p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (xScale !== 'log' || p.x > 0) && (yScale !== 'log' || p.y > 0),
  );
  return { kept, dropped: points.length - kept.length };
}

export function droppedNote(dropped: number, xScale: AxisScale, yScale: AxisScale): string | undefined {
  if (dropped === 0) return undefined;
  const why = xScale === 'log' || yScale === 'log' ? 'non-finite or ≤ 0 on a log axis' : 'non-finite';
  return `${dropped} point${dropped === 1 ? '' : 's'} not drawn (${why})`;
}

export function title(text: string, subtitle: string | undefined): string | { text: string; subtitle: string } {
  return subtitle ? { text, subtitle } : text;
}

export function checkSize(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 50 && v <= 4000)) {
    throw new Error(`chart ${name} ${v} is invalid; use an integer number of pixels in [50, 4000].`);
  }
}
