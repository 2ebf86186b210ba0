// The Partial FC step both head suites time in their child processes (source text spliced into the child script):
// fixed embeddings, labels from a fixed LCG, gradient w.r.t. the embeddings read back, then the sampled-row update.
// Expects `a` ({ B, D, C }), `tf` and `pfc` in scope; defines `step()`.
export const PFC_CHILD_STEP = `
const x = tf.randomNormal([a.B, a.D], 0, 1, 'float32', 3);
let s = 12345;
const labels = () => Int32Array.from({ length: a.B }, () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s % a.C; });
const step = () => {
  const g = tf.grad((e) => pfc.forward(e, labels()))(x);
  g.dataSync();
  g.dispose();
  pfc.step();
};
`;
