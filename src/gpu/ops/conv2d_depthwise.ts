// GPU depthwise and narrow-group convolutions (at most MAX_GROUP_WIDTH input and output
// channels per group; NCHW, OIHW weights): forward, input gradient and weight gradient
// read the NCHW tensors directly — each output plane is a 2-D convolution of its group's
// few planes, so no packing pass is needed — with kernels generated for the layer's kernel
// size, stride, padding, group widths and output tile (kernels/conv2d_depthwise_gen.ts says
// why). Their inputs (source planes and weights) are read in the device's operand form
// (src/gpu/operands.ts). conv2d.ts routes these shapes here after its shape and size checks.
// Reference: src/ref/conv2d.ts.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { conv2dOutputSize, type Conv2dShape } from "../../ref/conv2d.ts";
import {
  depthwiseBackwardInputWgsl,
  depthwiseBackwardWeightWgsl,
  depthwiseForwardWgsl,
  depthwiseKernelName,
  type DepthwiseSpec,
} from "../../../kernels/conv2d_depthwise_gen.ts";
import { grid2d } from "./grid.ts";
import { definedInForm, type OperandElement, readOperands } from "../operands.ts";
import { checkLanes, chunking, reduceWeightPartials, WG } from "./conv2d_common.ts";

/** Taps the kernels keep in registers. */
const MAX_TAPS = 64;
/** Channels per group up to which these kernels beat the packed GEMM (whose tiles pad to 4 × 16). */
const MAX_GROUP_WIDTH = 4;

/** Depthwise, or grouped with at most MAX_GROUP_WIDTH input and output channels per group. */
export function isNarrowGroups(s: Conv2dShape): boolean {
  return s.groups > 1 && s.Cin / s.groups <= MAX_GROUP_WIDTH &&
    s.Cout / s.groups <= MAX_GROUP_WIDTH;
}

/**
 * The generated kernel's description for a layer: its kernel size, stride, padding (the
 * layer's, or `pad` for the rotated forward), group widths and output tile, with vec4
 * stores when the output's width allows and vec4 loads when the source's rows
 * and the tiles' columns are aligned to four (1.2–1.5× on MobileFaceNet's stride-2 layers
 * forward and in the weight gradient, 0–10 % at stride 1). The tile is 8 columns wide and
 * 4 rows tall (1.9 loads per output at 3×3/1; one row for large kernels, registers); the
 * forward and weight-gradient kernels, which keep only a few rows in registers (the
 * forward stores each output row once it is complete, the weight gradient loads each dy row
 * where its first tap comes), take up to 14 rows, the output's height split evenly: fewer
 * halo rows per output, 1.15–1.45× faster forward at 28×28 and 56×56, 1.1–1.2× for the
 * grouped layer's weight gradient. The strided input gradient's tile is a multiple of the
 * stride. Maps that allow no vec4 rows but whose sides are multiples of 7 (MobileFaceNet's
 * 14×14 and 7×7) take 7 × 7 tiles, which waste no lanes there: 1.1–1.4× faster than 4 × 8.
 */
function spec(
  s: Conv2dShape,
  label: string,
  o: {
    /** The output being tiled (stored, or dy loaded, in vec4s when its width allows). */
    out: { H: number; W: number };
    /** The plane whose rows the kernel loads: its width, and how far apart (in columns) the
     * first source columns of neighbouring tiles are for a tile width TW. */
    src: { width: number; step: (TW: number) => number };
    stride?: number;
    pad?: { PH: number; PW: number };
    /** The strided input gradient's: tile sides a multiple of this (its stride), 4 rows. */
    multipleOf?: number;
  },
): DepthwiseSpec {
  if (s.kh * s.kw > MAX_TAPS) {
    throw new Error(`${label}: depthwise kernels support up to ${MAX_TAPS} taps`);
  }
  const m = o.multipleOf ?? 1;
  const up = (v: number) => m * Math.ceil(v / m);
  const L4 = (TW: number) => o.src.width % 4 === 0 && o.src.step(TW) % 4 === 0;
  const sevens = m === 1 && s.kh * s.kw <= 25 && o.out.H % 7 === 0 && o.out.W % 7 === 0 &&
    o.out.W % 4 !== 0 && !L4(8);
  const short = o.multipleOf !== undefined; // the strided input gradient keeps every sum
  const rows = s.kh * s.kw > 25 ? 1 : short ? 4 : Math.ceil(o.out.H / Math.ceil(o.out.H / 14));
  const TH = sevens ? 7 : up(rows), TW = sevens ? 7 : up(8);
  if (m > 1 && TH * TW > 64) {
    throw new Error(`${label}: depthwise input gradient supports strides up to 8`);
  }
  return {
    KH: s.kh,
    KW: s.kw,
    S: o.stride ?? s.stride,
    ...(o.pad ?? { PH: s.pad, PW: s.pad }),
    TH,
    TW,
    V4: o.out.W % 4 === 0 && TW % 4 === 0,
    L4: L4(TW),
    CG: s.Cin / s.groups,
    COG: s.Cout / s.groups,
  };
}

/**
 * One dispatch of a generated forward or input-gradient kernel over an OH × OW output
 * (src is H × W), tiles as `d` says; each of the g.C planes per image gets a lane (the
 * groups, for kernels whose lane computes all of a group's planes).
 */
async function tiled(
  gpu: Gpu,
  kernel: { name: string; text: () => string; src: "x" | "dy" },
  t: { src: Tensor; w: Tensor; dst: Tensor },
  g: { N: number; C: number; Cs: number; H: number; W: number; OH: number; OW: number },
  d: DepthwiseSpec,
  accumulate: boolean,
  label: string,
): Promise<Dispatch[]> {
  const OHB = Math.ceil(g.OH / d.TH), OWB = Math.ceil(g.OW / d.TW);
  const lanes = g.N * g.C * OHB * OWB;
  checkLanes(lanes, label);
  const groups = grid2d(gpu, Math.ceil(lanes / WG));
  const ops = await readOperands(gpu, [t.src, t.w], label, [rows(d.L4), "f32"]);
  const name = definedInForm(gpu, kernel.name, ops.form, kernel.text, [kernel.src, "w"]);
  return [
    ...ops.copies,
    await gpu.dispatch(name, {
      label: `${label}: depthwise`,
      uniforms: params([
        ["u32", g.C],
        ["u32", g.Cs],
        ["u32", g.H],
        ["u32", g.W],
        ["u32", g.OH],
        ["u32", g.OW],
        ["u32", OHB],
        ["u32", OWB],
        ["u32", lanes],
        ["u32", groups[0]],
        ["f32", 1 / OWB],
        ["f32", 1 / OHB],
        ["f32", 1 / g.C],
      ]),
      tensors: [...ops.bindings, t.dst],
      groups,
      constants: { ACCUMULATE: accumulate ? 1 : 0 },
    }),
  ];
}

/** How a kernel reads the rows of a plane: as vec4 blocks when they are aligned (L4, V4). */
function rows(vec4: boolean): OperandElement {
  return vec4 ? "vec4" : "f32";
}

/** y (+)= depthwise conv(x, w). */
export async function depthwiseForward(
  gpu: Gpu,
  t: { x: Tensor; w: Tensor; y: Tensor },
  s: Conv2dShape,
  accumulate: boolean,
  label: string,
): Promise<Dispatch[]> {
  const { OH, OW } = conv2dOutputSize(s);
  const src = { width: s.W, step: (TW: number) => TW * s.stride };
  const d = spec(s, label, { out: { H: OH, W: OW }, src });
  const kernel = {
    name: depthwiseKernelName("forward", d),
    text: () => depthwiseForwardWgsl(d),
    src: "x" as const,
  };
  // Lanes per image: one per group, each computing all of its output planes.
  const g = { N: s.N, C: s.groups, Cs: s.Cin, H: s.H, W: s.W, OH, OW };
  return await tiled(gpu, kernel, { src: t.x, w: t.w, dst: t.y }, g, d, accumulate, label);
}

/**
 * dx (+)= ∂L/∂x given dy. Stride 1: the forward kernel on dy with the taps rotated and
 * padding k − 1 − pad. Stride > 1: a gather of only the taps that land.
 */
export async function depthwiseBackwardInput(
  gpu: Gpu,
  t: { dy: Tensor; w: Tensor; dx: Tensor },
  s: Conv2dShape,
  accumulate: boolean,
  label: string,
): Promise<Dispatch[]> {
  const { OH, OW } = conv2dOutputSize(s);
  const g = { N: s.N, C: s.Cin, Cs: s.Cout, H: OH, W: OW, OH: s.H, OW: s.W };
  const io = { src: t.dy, w: t.w, dst: t.dx };
  const PH = s.kh - 1 - s.pad, PW = s.kw - 1 - s.pad;
  if (s.stride === 1 && PH >= 0 && PW >= 0) {
    const src = { width: OW, step: (TW: number) => TW };
    const d = spec(s, label, {
      out: { H: s.H, W: s.W },
      src,
      stride: 1,
      pad: { PH, PW },
    });
    const kernel = {
      name: depthwiseKernelName("forward", d, true),
      text: () => depthwiseForwardWgsl(d, true),
      src: "x" as const, // the forward kernel's source, here dy
    };
    return await tiled(gpu, kernel, io, { ...g, C: s.groups }, d, accumulate, label);
  }
  const src = { width: OW, step: (TW: number) => TW / s.stride };
  const d = spec(s, label, {
    out: { H: s.H, W: s.W },
    src,
    multipleOf: s.stride,
  });
  const kernel = {
    name: depthwiseKernelName("backward_input", d),
    text: () => depthwiseBackwardInputWgsl(d),
    src: "dy" as const,
  };
  return await tiled(gpu, kernel, io, g, d, accumulate, label);
}

/**
 * dw (+)= ∂L/∂w given dy and x: partial sums per chunk of output tiles, then a pass that
 * adds them in chunk order (no atomics, so the same inputs give the same bits).
 */
export async function depthwiseBackwardWeight(
  gpu: Gpu,
  t: { dy: Tensor; x: Tensor; dw: Tensor },
  s: Conv2dShape,
  accumulate: boolean,
  label: string,
): Promise<Dispatch[]> {
  const { OH, OW } = conv2dOutputSize(s);
  const C = s.Cout, khw = s.kh * s.kw;
  // A lane per group: it loads the
  // group's input values once for all of its output channels.
  const src = { width: s.W, step: (TW: number) => TW * s.stride };
  const d = spec(s, label, { out: { H: OH, W: OW }, src });
  const G = s.groups;
  const OHB = Math.ceil(OH / d.TH), OWB = Math.ceil(OW / d.TW), tiles = s.N * OHB * OWB;
  const { splits, chunk } = chunking(G, tiles);
  const lanes = splits * G;
  checkLanes(lanes, label);
  const part = gpu.tensor([splits, C, khw * d.CG], "conv2d.dw.partial");
  const groups = grid2d(gpu, Math.ceil(lanes / WG));
  const ops = await readOperands(gpu, [t.dy, t.x], label, [rows(d.V4), rows(d.L4)]);
  const kernel = definedInForm(
    gpu,
    depthwiseKernelName("backward_weight", d),
    ops.form,
    () => depthwiseBackwardWeightWgsl(d),
    ["dy", "x"],
  );
  const sums = await gpu.dispatch(kernel, {
    label: `${label}: depthwise chunks`,
    uniforms: params([
      ["u32", G],
      ["u32", s.Cin],
      ["u32", s.H],
      ["u32", s.W],
      ["u32", OH],
      ["u32", OW],
      ["u32", OHB],
      ["u32", OWB],
      ["u32", tiles],
      ["u32", chunk],
      ["u32", lanes],
      ["u32", groups[0]],
      ["f32", 1 / OWB],
      ["f32", 1 / OHB],
      ["f32", 1 / G],
    ]),
    tensors: [...ops.bindings, part],
    groups,
  });
  // Per-chunk [Cout][khw][CG] slices: the dense layout with Cp = CG, one group.
  const reduce = await reduceWeightPartials(
    gpu,
    { part, dw: t.dw },
    { Cg: d.CG, cog: C, khw, Cp: d.CG, splits, G: 1 },
    accumulate,
    label,
  );
  return [...ops.copies, sums, ...reduce];
}
