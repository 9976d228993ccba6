// The LayerKit on the GPU: the model graph's layer operations mapped onto the op builders
// of src/gpu/ops/ (written by the layer and GEMM/conv engineers). Shape objects are
// translated here, so a change in an op's signature is absorbed in one place.
import type { Gpu } from "../gpu/device.ts";
import { addAccumulate, addForward } from "../gpu/ops/add.ts";
import { batchnormBackward, batchnormForward, batchnormInference } from "../gpu/ops/batchnorm.ts";
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from "../gpu/ops/conv2d.ts";
import { dropoutBackward, dropoutForward } from "../gpu/ops/dropout.ts";
import { linearBackward, linearForward } from "../gpu/ops/linear.ts";
import { preluBackward, preluForward } from "../gpu/ops/prelu.ts";
import type { LayerKit } from "./kit.ts";

export function gpuKit(gpu: Gpu): LayerKit {
  return {
    conv2dForward: (t, s) => conv2dForward(gpu, t, s),
    conv2dBackwardInput: (t, s, accumulate) => conv2dBackwardInput(gpu, t, s, { accumulate }),
    conv2dBackwardWeight: (t, s) => conv2dBackwardWeight(gpu, t, s),
    batchnormTrain: (t, s) => batchnormForward(gpu, t, s),
    batchnormInference: (t, s) => batchnormInference(gpu, t, s),
    batchnormBackward: (t, s) => batchnormBackward(gpu, t, s),
    preluForward: (t, s) => preluForward(gpu, t, s),
    preluBackward: (t, s) => preluBackward(gpu, t, s),
    add: (t) => addForward(gpu, t),
    accumulate: (t) => addAccumulate(gpu, t),
    dropoutForward: (t, s) => dropoutForward(gpu, t, s),
    dropoutBackward: (t, s) => dropoutBackward(gpu, t, s),
    linearForward: (t, s) => linearForward(gpu, t, s),
    linearBackward: (t, s) => linearBackward(gpu, t, s),
  };
}
