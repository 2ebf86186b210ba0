/** Decoded pixels: RGB uint8, row-major HWC (3 bytes per pixel). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
}
