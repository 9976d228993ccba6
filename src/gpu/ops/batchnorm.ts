// GPU batch normalisation (2-D NCHW, or 1-D NC with HW = 1): training forward with batch
// statistics and running-average update, inference forward with the running statistics,
// and the training backward. Semantics and defaults as src/ref/batchnorm.ts (PyTorch).
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { type BatchNormShape, BN_EPS, BN_MOMENTUM } from "../../ref/batchnorm.ts";
import { channelGeometry } from "./channels.ts";
import { expectSize, placeholder } from "./grid.ts";

export interface BatchNormTrainTensors {
  x: Tensor;
  y: Tensor;
  /** γ and β (C each); omit both when the layer is not affine. */
  gamma?: Tensor;
  beta?: Tensor;
  /** Saved batch mean and 1/sqrt(var + eps) (C each), written for the backward. */
  mean: Tensor;
  invstd: Tensor;
  /** Running averages (C each), updated in place every time the dispatch runs. */
  runningMean: Tensor;
  runningVar: Tensor;
}

function check(
  op: string,
  s: BatchNormShape,
  t: Record<string, Tensor | undefined>,
  affine: boolean,
): void {
  const n = s.N * s.C * s.HW;
  for (const [name, tensor] of Object.entries(t)) {
    if (!tensor) {
      if (affine && ["gamma", "beta", "dgamma", "dbeta"].includes(name)) {
        throw new Error(
          `${op}: ${name} is required for an affine layer (pass affine: false otherwise)`,
        );
      }
      continue;
    }
    const perElement = ["x", "y", "dy", "dx"].includes(name);
    expectSize(op, name, tensor, perElement ? n : s.C);
  }
}

/** Training forward: y from batch statistics; saves mean/invstd; updates the running averages. */
export async function batchnormForward(
  gpu: Gpu,
  t: BatchNormTrainTensors,
  s: BatchNormShape,
): Promise<Dispatch[]> {
  const affine = s.affine ?? true;
  check("batchnormForward", s, { ...t }, affine);
  const count = s.N * s.HW;
  if (count < 2) {
    throw new Error(
      `batchnormForward: training needs more than 1 value per channel (N·HW = ${count})`,
    );
  }
  const g = channelGeometry(gpu, s);
  const unused = placeholder(gpu);
  return [
    await gpu.dispatch("batchnorm_forward", {
      uniforms: params([
        ["u32", s.N],
        ["u32", s.C],
        ["u32", g.hwi],
        ["u32", g.dn],
        ["u32", g.di],
        ["u32", g.gx],
        ["f32", s.eps ?? BN_EPS],
        ["f32", s.momentum ?? BN_MOMENTUM],
        ["f32", 1 / count],
        ["f32", count / (count - 1)],
        ["u32", affine ? 1 : 0],
      ]),
      tensors: [
        t.x,
        t.y,
        t.gamma ?? unused,
        t.beta ?? unused,
        t.mean,
        t.invstd,
        t.runningMean,
        t.runningVar,
      ],
      groups: g.groups,
      constants: { WG: g.wg },
      entry: g.entry,
    }),
  ];
}

export interface BatchNormInferenceTensors {
  x: Tensor;
  y: Tensor;
  gamma?: Tensor;
  beta?: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

/** Inference forward with the running statistics (nothing is updated). */
export async function batchnormInference(
  gpu: Gpu,
  t: BatchNormInferenceTensors,
  s: BatchNormShape,
): Promise<Dispatch[]> {
  const affine = s.affine ?? true;
  check("batchnormInference", s, { ...t }, affine);
  const g = channelGeometry(gpu, s);
  const unused = placeholder(gpu);
  return [
    await gpu.dispatch("batchnorm_inference", {
      uniforms: params([
        ["u32", s.N],
        ["u32", s.C],
        ["u32", g.hwi],
        ["u32", g.dn],
        ["u32", g.di],
        ["u32", g.gx],
        ["f32", s.eps ?? BN_EPS],
        ["u32", affine ? 1 : 0],
      ]),
      tensors: [t.x, t.y, t.gamma ?? unused, t.beta ?? unused, t.runningMean, t.runningVar],
      groups: g.groups,
      constants: { WG: g.wg },
      entry: g.entry,
    }),
  ];
}

export interface BatchNormBackwardTensors {
  dy: Tensor;
  x: Tensor;
  gamma?: Tensor;
  /** The forward's saved statistics. */
  mean: Tensor;
  invstd: Tensor;
  /** Written (not accumulated); must not alias dy or x. */
  dx: Tensor;
  dgamma?: Tensor;
  dbeta?: Tensor;
}

/** Training backward: dx, and dγ/dβ when affine. */
export async function batchnormBackward(
  gpu: Gpu,
  t: BatchNormBackwardTensors,
  s: BatchNormShape,
): Promise<Dispatch[]> {
  const affine = s.affine ?? true;
  check("batchnormBackward", s, { ...t }, affine);
  const g = channelGeometry(gpu, s);
  const unused = placeholder(gpu);
  return [
    await gpu.dispatch("batchnorm_backward", {
      uniforms: params([
        ["u32", s.N],
        ["u32", s.C],
        ["u32", g.hwi],
        ["u32", g.dn],
        ["u32", g.di],
        ["u32", g.gx],
        ["f32", 1 / (s.N * s.HW)],
        ["u32", affine ? 1 : 0],
      ]),
      tensors: [
        t.dy,
        t.x,
        t.gamma ?? unused,
        t.mean,
        t.invstd,
        t.dx,
        t.dgamma ?? placeholder(gpu, "write"),
        t.dbeta ?? placeholder(gpu, "write"),
      ],
      groups: g.groups,
      constants: { WG: g.wg },
      entry: g.entry,
    }),
  ];
}
