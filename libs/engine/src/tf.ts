// The single tfjs instance every Facet lib uses. Importing the union package (not tfjs-core alone) is what
// registers the gradient functions; tfjs-core's node bundle registers none.
import * as tf from '@tensorflow/tfjs';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Scalar, Rank, TensorLike } from '@tensorflow/tfjs';
