// GPU batch normalisation (2-D NCHW, or 1-D NC with HW = 1): training forward with batch
// statistics and running-average update, inference forward with the running statistics,
// and the training backward. Semantics and defaults as src/ref/batchnorm.ts (PyTorch).
// Training passes: per-invocation partial statistics → per-channel merge → element-wise apply
// (see ./channels.ts for why); each builder allocates its own small scratch buffers.
import { type Dispatch, type Gpu, params, type Tensor, type TextureCopy } from "../device.ts";
import { type BatchNormShape, BN_EPS, BN_MOMENTUM } from "../../ref/batchnorm.ts";
import { channelGeometry, elementwiseConstants } from "./channels.ts";
import { expectSize, placeholder } from "./grid.ts";
import { kernelInForm, readOperands } from "../operands.ts";

export interface BatchNormTrainTensors {
  x: Tensor;
  y: Tensor;
  /** γ and β (C each); omit both when the layer is not affine. */
  gamma?: Tensor;
  beta?: Tensor;
  /** Saved batch mean and 1/sqrt(var + eps) (C each), written for the backward. */
  mean: Tensor;
  invstd: Tensor;
  /** Running averages (C each), updated in place every time the dispatches run. */
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
  const partial = gpu.tensor([s.C, g.parts, 4], "batchnorm.partial");
  const coef = gpu.tensor([s.C, 4], "batchnorm.coef");
  const read = placeholder(gpu, "read");
  const element = g.entry === "main" ? "vec4" : "f32";
  // x is read by the statistics and the apply pass, coef (written by the merge) by the latter.
  const ops = await readOperands(gpu, [t.x, coef], "batchnormForward", [element, "vec4"]);
  const [x, coefIn] = ops.bindings;
  return [
    ...copies(ops.copyOf[0]),
    await gpu.dispatch(kernelInForm(gpu, "batchnorm_stats", ops.form, ["x4", "x1"]), {
      uniforms: params([["u32", s.N], ["u32", g.blocks]]),
      tensors: [x, partial],
      groups: [g.blocks, s.C],
      entry: g.entry,
      constants: g.constants,
    }),
    await gpu.dispatch("batchnorm_combine", {
      uniforms: params([
        ["u32", s.C],
        ["u32", g.parts],
        ["f32", s.eps ?? BN_EPS],
        ["f32", s.momentum ?? BN_MOMENTUM],
        ["u32", affine ? 1 : 0],
      ]),
      tensors: [
        partial,
        t.mean,
        t.invstd,
        t.runningMean,
        t.runningVar,
        t.gamma ?? read,
        t.beta ?? read,
        coef,
      ],
      groups: [Math.ceil(s.C / 64)],
    }),
    ...copies(ops.copyOf[1]),
    await gpu.dispatch(kernelInForm(gpu, "batchnorm_forward", ops.form, ["x4", "x1", "coef"]), {
      uniforms: params([["u32", g.items], ["u32", g.gx]]),
      tensors: [x, t.y, coefIn],
      groups: g.groups,
      entry: g.entry,
      constants: elementwiseConstants(g),
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
  const read = placeholder(gpu, "read");
  return [
    await gpu.dispatch("batchnorm_inference", {
      uniforms: params([
        ["u32", g.items],
        ["u32", g.gx],
        ["f32", s.eps ?? BN_EPS],
        ["u32", affine ? 1 : 0],
      ]),
      tensors: [t.x, t.y, t.gamma ?? read, t.beta ?? read, t.runningMean, t.runningVar],
      groups: g.groups,
      entry: g.entry,
      constants: elementwiseConstants(g),
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
  const partial = gpu.tensor([s.C, g.parts, 2], "batchnorm.partial");
  const coef = gpu.tensor([s.C, 4], "batchnorm.coef");
  const write = placeholder(gpu, "write");
  const element = g.entry === "main" ? "vec4" : "f32";
  // dy and x are read by the sums and the apply pass, coef (written by the merge) by the latter.
  const ops = await readOperands(gpu, [t.dy, t.x, coef], "batchnormBackward", [
    element,
    element,
    "vec4",
  ]);
  const [dy, x, coefIn] = ops.bindings;
  const inputs = ["dy4", "x4", "dy1", "x1"];
  return [
    ...copies(ops.copyOf[0], ops.copyOf[1]),
    await gpu.dispatch(kernelInForm(gpu, "batchnorm_backward_sums", ops.form, inputs), {
      uniforms: params([["u32", s.N], ["u32", g.blocks]]),
      tensors: [dy, x, t.mean, partial],
      groups: [g.blocks, s.C],
      entry: g.entry,
      constants: g.constants,
    }),
    await gpu.dispatch("batchnorm_backward_combine", {
      uniforms: params([["u32", s.C], ["u32", g.parts], ["f32", 1 / (s.N * s.HW)], [
        "u32",
        affine ? 1 : 0,
      ]]),
      tensors: [
        partial,
        t.gamma ?? placeholder(gpu, "read"),
        t.invstd,
        coef,
        t.dgamma ?? write,
        t.dbeta ?? write,
        t.mean,
      ],
      groups: [Math.ceil(s.C / 64)],
    }),
    ...copies(ops.copyOf[2]),
    await gpu.dispatch(kernelInForm(gpu, "batchnorm_backward", ops.form, [...inputs, "coef"]), {
      uniforms: params([["u32", g.items], ["u32", g.gx]]),
      tensors: [dy, x, t.dx, coefIn],
      groups: g.groups,
      entry: g.entry,
      constants: elementwiseConstants(g),
    }),
  ];
}

/** The texture copies that exist (none in the storage form). */
function copies(...list: (TextureCopy | undefined)[]): TextureCopy[] {
  return list.filter((c) => c !== undefined);
}
