// Separable Gaussian blur on interleaved RGB. Kernel radius ⌈3σ⌉, weights exp(−x²/2σ²) normalised to 1,
// mirror-reflected borders (index −1 ↦ 1), the padding torchvision's GaussianBlur uses.

export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/** Mirror index into [0, n) without repeating the edge sample. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = Math.abs(i) % period;
  if (j >= n) j = period - j;
  return j;
}

/** Blur `img` (RGB float, width×height) in place. */
export function gaussianBlurFloat(img: Float32Array, width: number, height: number, sigma: number): void {
  if (!(sigma > 0)) return;
  const k = gaussianKernel(sigma);
  const radius = (k.length - 1) / 2;
  const line = new Float64Array(Math.max(width, height) * 3);
  // rows
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      let a = 0;
      let g = 0;
      let b = 0;
      for (let t = -radius; t <= radius; t++) {
        const w = k[t + radius]!;
        const p = row + reflectIndex(x + t, width) * 3;
        a += w * img[p]!;
        g += w * img[p + 1]!;
        b += w * img[p + 2]!;
      }
      line[x * 3] = a;
      line[x * 3 + 1] = g;
      line[x * 3 + 2] = b;
    }
    for (let i = 0; i < width * 3; i++) img[row + i] = line[i]!;
  }
  // columns
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      let a = 0;
      let g = 0;
      let b = 0;
      for (let t = -radius; t <= radius; t++) {
        const w = k[t + radius]!;
        const p = (reflectIndex(y + t, height) * width + x) * 3;
        a += w * img[p]!;
        g += w * img[p + 1]!;
        b += w * img[p + 2]!;
      }
      line[y * 3] = a;
      line[y * 3 + 1] = g;
      line[y * 3 + 2] = b;
    }
    for (let y = 0; y < height; y++) {
      const p = (y * width + x) * 3;
      img[p] = line[y * 3]!;
      img[p + 1] = line[y * 3 + 1]!;
      img[p + 2] = line[y * 3 + 2]!;
    }
  }
}
