import { INFERENCE_RUNTIMES } from '@facet/sdk';
import { Flags } from '@oclif/core';

/** `--runtime`, shared by the commands that embed images with a model (embed, eval, measure). */
export const runtimeFlag = Flags.string({
  description:
    'inference runtime: onnx = ONNX Runtime on every core (a Facet model is exported to ONNX once, cached in ~/.cache/facet/onnx); ' +
    'tfjs = the tfjs engine (--backend); auto = onnx where onnxruntime-node loads and the network exports to ONNX (IResNet, MobileFaceNet), else tfjs',
  options: [...INFERENCE_RUNTIMES],
  default: 'auto',
});
