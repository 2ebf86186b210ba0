/** A layer width under the channel multiplier: round(c·width), at least 1. */
export function scaleChannels(channels: number, width: number): number {
  return Math.max(1, Math.round(channels * width));
}
