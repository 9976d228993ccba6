// GPU dense convolutions with a short reduction, read and written in NCHW directly with
// kernels generated per layer shape (kernels/conv2d_direct_gen.ts says why): forward, input
// and weight gradients of layers with few input channels (the stem, up to 32–48), a strided
// 1×1 kernel (shortcuts) or a 1×1 kernel on a tiny map (the `…Fits` rules below). conv2d.ts
// routes those shapes here after its shape and size checks (and packs the weight when its
// layout needs it). Reference: src/ref/conv2d.ts.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { conv2dOutputSize, type Conv2dShape } from "../../ref/conv2d.ts";
import {
  directBackwardInputWgsl,
  directBackwardWeightWgsl,
  directForwardWgsl,
  directKernelName,
  type DirectSpec,
} from "../../../kernels/conv2d_direct_gen.ts";
import { grid2d } from "./grid.ts";
import { operandForm, readOperands } from "../operands.ts";
import type { OperandForm } from "../../../kernels/operands.ts";
import { checkLanes, chunking, reduceWeightPartials, WG } from "./conv2d_common.ts";

/** A strided 1×1 layer without padding: its input gradient is zero off the stride grid. */
export function isStrided1x1(s: Conv2dShape): boolean {
  return s.groups === 1 && s.kh === 1 && s.kw === 1 && s.stride > 1 && s.pad === 0;
}

/**
 * A stride-1 1×1 layer on a map of at most 16 pixels (resnet-lite's last shortcut, 96→128
 * at 4×4): the direct forward and input gradient beat the packed GEMM there (7.1–7.8 →
 * 9.9–10.7 and 8.5–9.8 → 12.8–13.1 GFLOP/s, same hour), not from 7×7 on (mobilefacenet's
 * 512→256 @7: 1.3–1.6× slower).
 */
export function isTiny1x1(s: Conv2dShape): boolean {
  return s.groups === 1 && s.kh === 1 && s.kw === 1 && s.stride === 1 && s.pad === 0 &&
    s.H * s.W <= 16;
}

/**
 * Forward shapes the direct kernel beats the packed GEMM on (bench_kernels.ts, 2026-12-02):
 * the stem, strided 1×1 shortcuts, layers of up to 16 input channels, whose packed copy costs
 * as much as the GEMM (resnet-lite's 16→16 3×3/2: 6.2 → 3.7 ms; 16→16 3×3 @32, median
 * 10 → 15 GFLOP/s), and stride-1 layers of up to 32 (32→32 3×3 @32: 13.6 → 19 GFLOP/s; at
 * 32→64 3×3/2 and from 48 channels on the GEMM is faster).
 */
export function directForwardFits(s: Conv2dShape): boolean {
  return s.groups === 1 && s.kh * s.kw <= 49 &&
    (s.Cin <= 16 || isStrided1x1(s) || isTiny1x1(s) || (s.Cin <= 32 && s.stride === 1));
}

/**
 * Input-gradient shapes the direct kernel beats the per-phase GEMMs and their padded copy
 * of dy on: dx of up to 32 channels (resnet-lite's 16→16 3×3/2: 10.6 → 4.8 ms; 16→48 3×3
 * @16: 12.6 → 27 GFLOP/s; 32→64 3×3/2: 12 → 17; from 48 channels on the GEMM is as fast or
 * faster), and strided 1×1 layers (since 2026-12-02: 1.7–2.2× faster than their former kernel,
 * which gave a lane one dx row, so that half the lanes of a batch only stored zeros).
 */
export function directBackwardInputFits(s: Conv2dShape): boolean {
  return s.groups === 1 && s.kh * s.kw <= 49 && (isStrided1x1(s) || isTiny1x1(s) || s.Cin <= 32);
}

/**
 * Weight-gradient shapes the direct kernel beats the GEMM and its packed copy of x on: the
 * stem, strided 1×1 shortcuts and layers of up to 48 input channels (resnet-lite's 16→16
 * 3×3/2: 7.3 → 10.5 GFLOP/s, 16→48 3×3 @16: 12 → 17; 32→32 3×3 @32 about even; 48→48
 * 3×3/2 @16 15.6–17.4 → 17.2–19.3, 48→96 3×3 @8 21–22.5 → 27; at 64 channels even, at 96
 * 2× slower), and tiny-map 1×1 layers (96→128 @4: 6.6 → 8.6–9.6).
 */
export function directWeightGradFits(s: Conv2dShape): boolean {
  return s.groups === 1 && s.kh * s.kw <= 49 && (s.Cin <= 48 || isStrided1x1(s) || isTiny1x1(s));
}

/**
 * The packed weight's binding: its texture in the texture form (kernels/conv2d_direct_gen.ts
 * weightDecl says why), else the tensor itself, bound as a uniform or storage buffer.
 */
function weightBinding(
  ops: { form: OperandForm; bindings: (GPUBufferBinding | GPUTextureView)[] },
  wPacked: Tensor,
): Tensor | GPUTextureView {
  return ops.form === "texture" ? ops.bindings[1] as GPUTextureView : wPacked;
}

/** The kernel geometry every direct kernel is generated for. */
function taps(s: Conv2dShape): Pick<DirectSpec, "KH" | "KW" | "S" | "P"> {
  return { KH: s.kh, KW: s.kw, S: s.stride, P: s.pad };
}

async function launch(
  gpu: Gpu,
  kernel: string,
  t: { src: GPUBufferBinding | GPUTextureView; w: Tensor | GPUTextureView; dst: Tensor },
  g: { N: number; Cin: number; Cout: number; H: number; W: number; OH: number; OW: number },
  d: DirectSpec,
  accumulate: boolean,
  label: string,
  rowsPerBlock = 1,
): Promise<Dispatch> {
  const OWB = Math.ceil(g.OW / d.TW), OHB = Math.ceil(g.OH / rowsPerBlock);
  const lanes = g.N * OHB * OWB;
  checkLanes(lanes, label);
  const [gx, gy] = grid2d(gpu, Math.ceil(lanes / WG));
  return await gpu.dispatch(kernel, {
    label: `${label}: direct`,
    uniforms: params([
      ["u32", g.Cin],
      ["u32", g.Cout],
      ["u32", g.H],
      ["u32", g.W],
      ["u32", g.OH],
      ["u32", g.OW],
      ["u32", OWB],
      ["u32", OHB],
      ["u32", lanes],
      ["u32", gx],
      ["f32", 1 / OWB],
      ["f32", 1 / OHB],
    ]),
    tensors: [t.src, t.w, t.dst],
    groups: [gx, gy, Math.ceil(g.Cout / d.TC)],
    constants: { ACCUMULATE: accumulate ? 1 : 0 },
  });
}

/**
 * y (+)= conv(x, w) for a shape `directForwardFits` accepts, given the weight packed as
 * [Cout][kh][kw][Cin rounded up to 4] (conv2d.ts packWeight); `uniform` when that buffer
 * can be bound as a uniform buffer (then every lane of a batch shares each weight load).
 */
export async function directForward(
  gpu: Gpu,
  t: { x: Tensor; wPacked: Tensor; y: Tensor },
  s: Conv2dShape,
  accumulate: boolean,
  label: string,
  uniform: boolean,
): Promise<Dispatch[]> {
  const { OH, OW } = conv2dOutputSize(s);
  // 16 pixels × 16 channels per invocation (fewer pixels on narrow outputs): measured best.
  // A 1×1 layer's input value feeds one multiply-add per output channel, not one per tap:
  // there 32 channels share it when they fill whole blocks (1.1–1.5× faster on 48→96 @8,
  // 32→64 @32 and iresnet's 1×1/2 shortcuts; 48 channels in blocks of 32 lose). The stem
  // keeps 3 × KH rows of 33 input values live with its sums: 8 channels there (2026-12-03,
  // TW 8/16/32 × TC 4…32 alternated in one process: 0.68–0.73× the time of 16 × 16 on
  // 3→16/2 and 3→32/2 @64, 3→64/2 and 3→64/1 @112; TW 32 × TC 8: 0.70–0.76×).
  const TW = OW >= 16 ? 16 : OW >= 8 ? 8 : 4;
  const TC = s.kh * s.kw === 1 && s.Cout % 32 === 0 ? 32 : Math.min(s.Cin < 4 ? 8 : 16, s.Cout);
  const CIN = s.Cin < 4 ? s.Cin : 0;
  // In the texture form, rows of a width divisible by 4 are fetched as vec4s.
  const rowsAsVec4 = s.W % 4 === 0 && await operandForm(gpu) === "texture";
  const x = await readOperands(gpu, [t.x, t.wPacked], label, [rowsAsVec4 ? "vec4" : "f32"]);
  const UW = uniform && x.form === "storage" ? t.wPacked.size / 4 : 0;
  const d = {
    ...taps(s),
    TW,
    TC,
    V4: OW % 4 === 0,
    CIN,
    UW,
    form: x.form,
    XV4: rowsAsVec4 && x.form === "texture",
  };
  const kernel = gpu.define(directKernelName("forward", d), () => directForwardWgsl(d));
  const g = { N: s.N, Cin: s.Cin, Cout: s.Cout, H: s.H, W: s.W, OH, OW };
  const io = { src: x.bindings[0], w: weightBinding(x, t.wPacked), dst: t.y };
  return [...x.copies, await launch(gpu, kernel, io, g, d, accumulate, label)];
}

/**
 * dx (+)= ∂L/∂x for a shape `directBackwardInputFits` accepts, given the weight packed as for
 * the forward (and `uniform` likewise).
 */
export async function directBackwardInput(
  gpu: Gpu,
  t: { dy: Tensor; wPacked: Tensor; dx: Tensor },
  s: Conv2dShape,
  accumulate: boolean,
  label: string,
  uniform: boolean,
): Promise<Dispatch[]> {
  const { OH, OW } = conv2dOutputSize(s);
  // An S × TW block of dx (up to 64 pixels, whole rows of up to 64/S) for 8 channels per
  // invocation: measured best on resnet-lite's 16→16 3×3/2 (TC 4…16 × TW 8…32). At stride 1
  // rows of 16 (2026-12-03, weights read from textures; TW 8/16/32/64 × TC 4…16 alternated
  // in one process: 0.64–0.75× the time of whole 32- and 112-pixel rows on 16→16 and 32→32
  // @32 and the 3→64 stem @112; TC 4 and 8 even). A 1×1
  // layer's dy value feeds one multiply-add per channel, not one per tap, so there up to 32
  // channels share it (at most 512 sums: 32 channels for up to 16 reached pixels): 1.2–2×
  // faster than 8 on resnet-lite's strided shortcuts and 32→64 @32 (TC 8/16/32 × TW 16/32/64).
  const TW = s.stride *
    Math.ceil(Math.min(s.W, s.stride === 1 ? 16 : Math.floor(64 / s.stride)) / s.stride);
  const TC = Math.min(
    s.kh * s.kw === 1 ? 4 * Math.max(1, Math.min(8, Math.floor(128 / (TW / s.stride)))) : 8,
    4 * Math.ceil(s.Cin / 4),
  );
  // In the texture form, dy rows are fetched as vec4s when each block starts on a whole one.
  const rowsAsVec4 = OW % 4 === 0 && (TW / s.stride) % 4 === 0 &&
    await operandForm(gpu) === "texture";
  const dy = await readOperands(gpu, [t.dy, t.wPacked], label, [rowsAsVec4 ? "vec4" : "f32"]);
  const UW = uniform && dy.form === "storage" ? t.wPacked.size / 4 : 0;
  const d = {
    ...taps(s),
    TW,
    TC,
    V4: s.W % 4 === 0 && TW % 4 === 0,
    CIN: 0,
    UW,
    form: dy.form,
    XV4: rowsAsVec4 && dy.form === "texture",
  };
  const kernel = gpu.define(
    directKernelName("backward_input", d),
    () => directBackwardInputWgsl(d),
  );
  const g = { N: s.N, Cin: s.Cout, Cout: s.Cin, H: OH, W: OW, OH: s.H, OW: s.W };
  const io = { src: dy.bindings[0], w: weightBinding(dy, t.wPacked), dst: t.dx };
  return [...dy.copies, await launch(gpu, kernel, io, g, d, accumulate, label, s.stride)];
}

/**
 * Sums per invocation of the direct weight gradient: TC output × TI input channels × taps,
 * over TW pixels of a row per tile. The stem and 1×1 layers take all input channels
 * (TI up to 16) and as many output channels as fit 256 sums (a power of two, so that channel
 * blocks divide the usual widths). Wider layers read far more x than dy per sum that way, so
 * there TC = 16 output channels share each x load and TI = 2 (288 sums for a 3×3 kernel):
 * measured best of TC 8/16 × TI 1…3 × TW 4…16 on resnet-lite's 16→16 3×3/2.
 */
function weightGradTiles(s: Conv2dShape): { TC: number; TI: number; TW: number } {
  const khw = s.kh * s.kw;
  const pow2 = (v: number) => 2 ** Math.floor(Math.log2(Math.max(1, v)));
  if (s.Cin <= 4 || khw === 1) {
    const TI = Math.max(1, Math.min(s.Cin, 16, Math.floor(256 / khw)));
    return { TI, TC: Math.min(s.Cout, 16, pow2(256 / (TI * khw))), TW: 4 };
  }
  const TC = Math.min(s.Cout, 16, pow2(288 / khw));
  return { TC, TI: Math.max(1, Math.min(s.Cin, 16, Math.floor(288 / (TC * khw)))), TW: 8 };
}

/**
 * dw (+)= ∂L/∂w for a shape `directWeightGradFits` accepts: partial sums per chunk of pixel
 * tiles, then conv2d_backward_weight_reduce.wgsl adds them in chunk order (no atomics, so
 * the same inputs give the same bits).
 */
export async function directBackwardWeight(
  gpu: Gpu,
  t: { dy: Tensor; x: Tensor; dw: Tensor },
  s: Conv2dShape,
  accumulate: boolean,
  label: string,
): Promise<Dispatch[]> {
  const { OH, OW } = conv2dOutputSize(s);
  const khw = s.kh * s.kw;
  const { TC, TI, TW } = weightGradTiles(s);
  const V4 = OW % 4 === 0;
  // In the texture form, x rows of a width divisible by 4 are fetched as vec4s.
  const rowsAsVec4 = s.W % 4 === 0 && await operandForm(gpu) === "texture";
  const ops = await readOperands(gpu, [t.dy, t.x], label, [
    V4 ? "vec4" : "f32",
    rowsAsVec4 ? "vec4" : "f32",
  ]);
  const d = {
    ...taps(s),
    TW,
    TC,
    TI,
    V4,
    CIN: 0,
    form: ops.form,
    XV4: rowsAsVec4 && ops.form === "texture",
  };
  const coBlocks = Math.ceil(s.Cout / TC), ciBlocks = Math.ceil(s.Cin / TI);
  const OWB = Math.ceil(OW / TW), tiles = s.N * OH * OWB;
  // At least 32 tiles per chunk: on small layers fewer chunks leave the reduce less to read
  // (1.2–1.9× faster than no minimum on resnet-lite's 16-channel layers and shortcuts);
  // large ones keep 16 workgroups, so both threads stay busy to the end (4 workgroups were
  // 5–20 % slower on MobileFaceNet's 3→64 stem at 112 px in alternating runs).
  const { splits, chunk } = chunking(coBlocks * ciBlocks, tiles, 32);
  const lanes = splits * coBlocks * ciBlocks;
  checkLanes(lanes, label);
  const [gx, gy] = grid2d(gpu, Math.ceil(lanes / WG));
  const kernel = gpu.define(
    `${directKernelName("backward_weight", d)}i${TI}`,
    () => directBackwardWeightWgsl(d),
  );
  const part = gpu.tensor([splits, s.Cout, khw * s.Cin], "conv2d.dw.partial");
  const sums = await gpu.dispatch(kernel, {
    label: `${label}: direct chunks`,
    uniforms: params([
      ["u32", s.Cin],
      ["u32", s.Cout],
      ["u32", s.H],
      ["u32", s.W],
      ["u32", OH],
      ["u32", OW],
      ["u32", OWB],
      ["u32", tiles],
      ["u32", chunk],
      ["u32", lanes],
      ["u32", gx],
      ["u32", coBlocks],
      ["u32", ciBlocks],
      ["f32", 1 / OWB],
      ["f32", 1 / OH],
      ["f32", 1 / coBlocks],
      ["f32", 1 / ciBlocks],
    ]),
    tensors: [...ops.bindings, part],
    groups: [gx, gy, 1],
  });
  // Per-chunk [Cout][khw][Cin] slices: the dense layout with Cp = Cin, one group.
  const reduce = await reduceWeightPartials(
    gpu,
    { part, dw: t.dw },
    { Cg: s.Cin, cog: s.Cout, khw, Cp: s.Cin, splits, G: 1 },
    accumulate,
    label,
  );
  return [...ops.copies, sums, ...reduce];
}
