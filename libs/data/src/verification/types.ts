/** Pairs of face crops for 1:1 verification; pair i is (imagesA[i], imagesB[i]) with ground truth issame[i]. */
export interface VerificationSet {
  name: string;
  /** RGB uint8 HWC, imageSize²·3 each. */
  imagesA: Uint8Array[];
  imagesB: Uint8Array[];
  issame: boolean[];
  imageSize: number;
  /**
   * Fold id of each pair when the pairs list has a fold column ("pathA pathB same fold"): verification uses these
   * folds instead of contiguous ones. Absent otherwise (and for .bin sets).
   */
  foldIds?: number[];
  /** Entries skipped with skipBad (pair index and reason); absent when none. */
  skipped?: string[];
}
