/** Pairs of face crops for 1:1 verification; pair i is (imagesA[i], imagesB[i]) with ground truth issame[i]. */
export interface VerificationSet {
  name: string;
  /** RGB uint8 HWC, imageSize²·3 each. */
  imagesA: Uint8Array[];
  imagesB: Uint8Array[];
  issame: boolean[];
  imageSize: number;
  /** Entries skipped with skipBad (pair index and reason); absent when none. */
  skipped?: string[];
}
