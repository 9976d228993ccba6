// WGSL for dense convolutions whose reduction is short — the 3-channel stem, layers of up
// to 32–48 input channels, 1×1 strided shortcuts and 1×1 layers on tiny maps — generated
// per layer shape at run time: forward, input gradient and weight gradient, read and
// written in NCHW directly (src/gpu/ops/conv2d_direct.ts says which shapes take which).
//
// Why: the implicit GEMMs (conv2d_gen.ts) first pack the input into a padded channel-last
// copy; with 3 input channels, or a 1×1 layer that reads a quarter of its input, that
// packing pass costs as much as the GEMM, and a 3-channel K dimension pads to 4 and wastes
// the GEMM's tiles. Here an invocation computes TW pixels of one row for TC output
// channels: per input channel it loads the input values its pixels need once and the
// TC × KH × KW weights, which are the same for every invocation of a workgroup (its
// channel block is the workgroup's z; llvmpipe still loads them per lane: weightDecl below).
// The tile is unrolled here because llvmpipe keeps loop-indexed arrays in memory. The
// activations (x, dy) and weights are read in the device's operand form (kernels/operands.ts).
// Reference: src/ref/conv2d.ts; used by src/gpu/ops/conv2d_direct.ts.
import { DIVIDE_WGSL } from "./conv2d_gen.ts";
import {
  operandDecl,
  type OperandForm,
  operandHelpers,
  operandLength,
  operandRead,
} from "./operands.ts";

export interface DirectSpec {
  KH: number;
  KW: number;
  S: number;
  P: number;
  /** Pixels per invocation (along a row) and output channels per workgroup. */
  TW: number;
  TC: number;
  /** Store runs of four pixels as vec4s (output width and TW multiples of 4). */
  V4: boolean;
  /**
   * Forward: input channels when fewer than 4 (the stem), compiled in so that no load or
   * multiply is spent on the padding channel; 0 otherwise.
   */
  CIN: number;
  /** The packed weight's vec4 count when it is bound as a uniform buffer (storage form), else 0. */
  UW?: number;
  /** How x, dy and the forward's and input gradient's weight are bound (default storage). */
  form?: OperandForm;
  /**
   * Read x rows (forward, weight gradient) or dy rows (input gradient) as vec4s, a texel
   * fetch per four floats: their width is a multiple of 4 (and for the input gradient TW/S).
   * Only in the texture form: from storage a vec4 costs four loads, and the rows' ends
   * overhang.
   */
  XV4?: boolean;
}

/**
 * Declarations for `rowValues` with XV4, after col0 (= ow0·S − P): ow0 is a multiple of 4
 * (TW is), so column col0 + i is component (i + r0) mod 4 of row vec4 vb + ⌊(i + r0) / 4⌋,
 * with r0 = −P mod 4 known here.
 */
function quadBase(d: DirectSpec, indent: string): string[] {
  if (!d.XV4) return [];
  const r0 = (4 - (d.P % 4)) % 4;
  return [`${indent}let vb = (col0 - ${r0}) / 4;`, `${indent}let lastV = i32(p.W / 4u) - 1;`];
}

/**
 * r{tag}_{i} = x[row, col0 + i] for the tile's relative columns `cols`, 0 where `mask(i)` is
 * false (padding, channels past Cin); `row` is the row's index in rows of W floats. With
 * XV4 each vec4 of the row is fetched once; quads past the row's ends are clamped into it
 * and their columns masked.
 */
function rowValues(
  d: DirectSpec,
  tag: string,
  row: string,
  cols: number[],
  mask: (i: number) => string,
  indent: string,
): string[] {
  const L: string[] = [];
  if (!d.XV4) {
    L.push(`${indent}let b${tag} = (${row}) * p.W;`);
    for (const i of cols) {
      const at = `b${tag} + u32(clamp(col0 + ${i}, 0, i32(p.W) - 1))`;
      L.push(
        `${indent}let r${tag}_${i} = select(0.0, ${operandRead(d.form, "x", at, "f32")}, ${
          mask(i)
        });`,
      );
    }
    return L;
  }
  const r0 = (4 - (d.P % 4)) % 4;
  const quad = (i: number) => Math.floor((i + r0) / 4);
  L.push(`${indent}let b${tag} = (${row}) * (p.W / 4u);`);
  for (const q of new Set(cols.map(quad))) {
    const at = `b${tag} + u32(clamp(vb + ${q}, 0, lastV))`;
    L.push(`${indent}let v${tag}_${q} = ${operandRead(d.form, "x", at)};`);
  }
  for (const i of cols) {
    L.push(
      `${indent}let r${tag}_${i} = select(0.0, v${tag}_${quad(i)}.${"xyzw"[(i + r0) % 4]}, ${
        mask(i)
      });`,
    );
  }
  return L;
}

export function directKernelName(kind: string, d: DirectSpec): string {
  return `conv2d_direct_${kind}_${d.KH}x${d.KW}s${d.S}p${d.P}t${d.TW}x${d.TC}${
    d.V4 ? "v" : ""
  }c${d.CIN}${d.UW ? `u${d.UW}` : ""}${d.XV4 ? "x4" : ""}${d.form === "texture" ? "_texture" : ""}`;
}

/**
 * The packed weight of the forward and input gradient ([Cout][KH][KW][Cp] vec4s): in the
 * texture form a texture like the activations; in the storage form a uniform buffer when it
 * fits (UW), else a storage array. Every lane of a workgroup reads the same weights, but
 * llvmpipe (Mesa 22.3) still loads a uniform-buffer vec4 lane by lane, one float at a time
 * (an extract, a load and an insert per lane and component: a third of the 16→16 3×3
 * forward's samples under perf), where a texel fetch loads each lane's vec4 at once.
 */
const weightDecl = {
  storage: "@group(0) @binding(2) var<storage, read> w: array<f32>;",
  wgsl: (d: DirectSpec) =>
    d.form === "texture"
      ? operandDecl("texture", 2, "w", "vec4")
      : d.UW
      ? `@group(0) @binding(2) var<uniform> w: array<vec4<f32>, ${d.UW}>;`
      : "@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;",
};

/**
 * The uniforms, bindings and lane decomposition the direct kernels share: lane
 * (n, row block, column block) with OHB row blocks (`row`: `oh` when a block is one output
 * row) and OWB column blocks.
 */
function header(
  title: string,
  src: string,
  dst: string,
  v4: boolean,
  form: OperandForm = "storage",
  row = "oh",
  srcVec4 = false,
): string {
  return `// GENERATED by kernels/conv2d_direct_gen.ts: ${title}
struct Params {
  Cin: u32,
  Cout: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  OWB: u32,
  OHB: u32,
  lanes: u32,
  gx: u32,
  invOWB: f32,
  invOHB: f32,
}

// A constant, not a uniform: llvmpipe runs both sides of an if on a uniform under masks.
override ACCUMULATE: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
${operandDecl(form, 1, src, srcVec4 ? "vec4" : "f32")}
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> ${dst}: array<${v4 ? "vec4<f32>" : "f32"}>;
${operandHelpers(form)}
${DIVIDE_WGSL}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = (wg.x + wg.y * p.gx) * 64u + li;
  if (lane >= p.lanes) { return; }
  let q = divide(lane, p.OWB, p.invOWB);
  let n = divide(q, p.OHB, p.invOHB);
  let ${row} = q - n * p.OHB;`;
}

/**
 * Stores a{cc}_{t} to channel (c0 + cc) of `channels`, row oh, pixels ow0 + t of an
 * OH × OW output, clipped.
 */
function store(
  dst: string,
  channels: string,
  TC: number,
  TW: number,
  v4: boolean,
  acc = (cc: number, t: number) => `a${cc}_${t}`,
): string[] {
  const L: string[] = [];
  const put = (at: string, v: string) =>
    `if (ACCUMULATE) { ${dst}[${at}] += ${v}; } else { ${dst}[${at}] = ${v}; }`;
  for (let cc = 0; cc < TC; cc++) {
    L.push(`  if (c0 + ${cc}u < ${channels}) {`);
    L.push(`    let o${cc} = ((n * ${channels} + c0 + ${cc}u) * p.OH + oh) * p.OW + ow0;`);
    if (v4) {
      for (let g = 0; g < TW / 4; g++) {
        const v = [0, 1, 2, 3].map((k) => acc(cc, 4 * g + k)).join(", ");
        L.push(`    if (ow0 + ${4 * g}u < p.OW) { ${put(`o${cc} / 4u + ${g}u`, `vec4(${v})`)} }`);
      }
    } else {
      for (let t = 0; t < TW; t++) {
        L.push(`    if (ow0 + ${t}u < p.OW) { ${put(`o${cc} + ${t}u`, acc(cc, t))} }`);
      }
    }
    L.push(`  }`);
  }
  return L;
}

/**
 * y[n, co, oh, ow] (+)= Σ_{ci, ky, kx} x[n, ci, oh·S − P + ky, ow·S − P + kx] · w[co, ci, ky, kx]
 * with the weight packed as [Cout][KH][KW][Cp] (conv2d_pack_weight.wgsl; Cp = Cin rounded up
 * to 4, zeros past Cin), so that one vec4 load gives four input channels of a tap.
 * Uniforms: Cin, Cout, H, W, OH, OW, OWB, OHB (= OH), lanes, gx, 1/OWB, 1/OHB; the
 * constant ACCUMULATE adds to y instead of writing it.
 * Grid: x·y fold the pixel tiles N·OH·⌈OW / TW⌉ (lanes), z = ⌈Cout / TC⌉ channel blocks.
 */
export function directForwardWgsl(d: DirectSpec): string {
  const { KH, KW, S, P, TW, TC } = d;
  const khw = KH * KW;
  const cols = [
    ...new Set(Array.from({ length: TW * KW }, (_, i) => Math.floor(i / KW) * S + (i % KW))),
  ].sort((a, b) => a - b);
  const L: string[] = [
    header(
      `direct convolution forward ${KH}×${KW}/${S} pad ${P}`,
      "x",
      "y",
      d.V4,
      d.form,
      "oh",
      d.XV4,
    ).replace(weightDecl.storage, weightDecl.wgsl(d)),
  ];
  L.push(`  let ow0 = (lane - q * p.OWB) * ${TW}u;
  let c0 = wg.z * ${TC}u;
  let row0 = i32(oh * ${S}u) - ${P};
  let col0 = i32(ow0 * ${S}u) - ${P};
  let C4 = (p.Cin + 3u) / 4u;`);
  L.push(...quadBase(d, "  "));
  for (const i of cols) L.push(`  let ok${i} = col0 + ${i} >= 0 && col0 + ${i} < i32(p.W);`);
  for (let ky = 0; ky < KH; ky++) {
    L.push(`  let in${ky} = row0 + ${ky} >= 0 && row0 + ${ky} < i32(p.H);`);
    L.push(`  let ih${ky} = u32(clamp(row0 + ${ky}, 0, i32(p.H) - 1));`);
  }
  for (let cc = 0; cc < TC; cc++) {
    // Rows past Cout read the last channel's weights and are never stored.
    L.push(`  let wr${cc} = min(c0 + ${cc}u, p.Cout - 1u) * ${khw}u * C4;`);
    for (let t = 0; t < TW; t++) L.push(`  var a${cc}_${t} = 0.0;`);
  }
  const channels = d.CIN > 0 ? d.CIN : 4;
  L.push(d.CIN > 0 ? `  { let c4 = 0u;` : `  for (var c4 = 0u; c4 < C4; c4++) {`);
  for (let j = 0; j < channels; j++) {
    L.push(`    let ci${j} = min(c4 * 4u + ${j}u, p.Cin - 1u);`);
    L.push(`    let has${j} = c4 * 4u + ${j}u < p.Cin;`);
    for (let ky = 0; ky < KH; ky++) {
      const row = `(n * p.Cin + ci${j}) * p.H + ih${ky}`;
      L.push(
        ...rowValues(d, `${j}_${ky}`, row, cols, (i) => `has${j} && in${ky} && ok${i}`, "    "),
      );
    }
  }
  for (let cc = 0; cc < TC; cc++) {
    for (let k = 0; k < khw; k++) {
      const ky = Math.floor(k / KW), kx = k % KW;
      L.push(`    let w${cc}_${k} = ${operandRead(d.form, "w", `wr${cc} + ${k}u * C4 + c4`)};`);
      for (let t = 0; t < TW; t++) {
        let sum = `a${cc}_${t}`;
        for (let j = 0; j < channels; j++) {
          sum = `fma(r${j}_${ky}_${t * S + kx}, w${cc}_${k}.${"xyzw"[j]}, ${sum})`;
        }
        L.push(`    a${cc}_${t} = ${sum};`);
      }
    }
  }
  L.push(`  }`);
  L.push(...store("y", "p.Cout", TC, TW, d.V4));
  L.push(`}`);
  return L.join("\n") + "\n";
}

/**
 * Input gradient of a dense layer with a K×K kernel and stride S (any padding):
 *   dx[n, ci, ih, iw] (+)= Σ_{co, ky, kx} dy[n, co, oh, ow] · w[co, ci, ky, kx]
 * over the taps with ih + P − ky = S·oh and iw + P − kx = S·ow. An invocation computes an
 * S × TW block of dx (rows S·rb …, columns a multiple of S on), so which taps reach each of
 * its pixels, and from which dy row and column, is known here and unrolled: no multiply by
 * the zeros of a dilated dy, no per-phase passes, no packed copy of dy. The weight is the
 * forward's packing, [Cout][KH][KW][Cp] (Cp = the layer's Cin in fours), so one vec4 load
 * gives four dx channels of a tap; TC is a multiple of 4.
 * Here the uniforms' Cin counts dy's channels (the layer's Cout) and Cout dx's; H, W are
 * dy's size and OH, OW dx's; OHB = ⌈OH / S⌉ row blocks.
 * Grid: x·y fold the blocks N·OHB·⌈OW / TW⌉, z = ⌈Cout / TC⌉ channel blocks.
 */
export function directBackwardInputWgsl(d: DirectSpec): string {
  const { KH, KW, S, P, TW, TC } = d;
  if (TW % S !== 0 || TC % 4 !== 0) {
    throw new Error("direct input gradient: TW must be a multiple of S, TC of 4");
  }
  const khw = KH * KW;
  const mod = (a: number) => ((a % S) + S) % S;
  // (dx offset, tap, dy offset) triples along one axis: offset o of the block receives tap k
  // from dy at block/S + (o + P − k) / S when S divides o + P − k.
  const reach = (span: number, K: number) => {
    const out: { o: number; k: number; at: number }[] = [];
    for (let o = 0; o < span; o++) {
      for (let k = 0; k < K; k++) if (mod(o + P - k) === 0) out.push({ o, k, at: (o + P - k) / S });
    }
    return out;
  };
  const rows = reach(S, KH), cols = reach(TW, KW);
  const rowAt = [...new Set(rows.map((r) => r.at))].sort((a, b) => a - b);
  const colAt = [...new Set(cols.map((c) => c.at))].sort((a, b) => a - b);
  const id = (v: number) => (v < 0 ? `m${-v}` : `${v}`);
  const L: string[] = [
    header(`direct input gradient ${KH}×${KW}/${S} pad ${P}`, "dy", "dx", d.V4, d.form, "rb", d.XV4)
      .replace(weightDecl.storage, weightDecl.wgsl(d)),
  ];
  L.push(`  let ow0 = (lane - q * p.OWB) * ${TW}u;
  let c0 = wg.z * ${TC}u;
  let u0 = i32(rb);
  let v0 = i32(ow0 / ${S}u);
  let C4 = (p.Cout + 3u) / 4u;`);
  // With XV4, v0 is a multiple of 4: dy column v0 + a is component a mod 4 of the row's
  // vec4 v0/4 + ⌊a/4⌋; quads past the row's ends are clamped into it, their columns masked.
  const quad = (a: number) => Math.floor(a / 4);
  const rowWidth = d.XV4 ? "(p.W / 4u)" : "p.W";
  for (const a of rowAt) {
    L.push(`  let in${id(a)} = u0 + ${a} >= 0 && u0 + ${a} < i32(p.H);`);
    L.push(`  let ih${id(a)} = u32(clamp(u0 + ${a}, 0, i32(p.H) - 1)) * ${rowWidth};`);
  }
  for (const a of colAt) {
    L.push(`  let ok${id(a)} = v0 + ${a} >= 0 && v0 + ${a} < i32(p.W);`);
    if (!d.XV4) L.push(`  let iw${id(a)} = u32(clamp(v0 + ${a}, 0, i32(p.W) - 1));`);
  }
  if (d.XV4) {
    for (const q of new Set(colAt.map(quad))) {
      L.push(`  let iq${id(q)} = u32(clamp(v0 / 4 + ${q}, 0, i32(p.W / 4u) - 1));`);
    }
  }
  const acc = (cc: number, r: number, t: number) => `a${cc}_${r}_${t}`;
  // Only pixels some tap reaches get a sum (a 1×1/2 block: a quarter); the rest store 0.
  const hit = new Set(rows.flatMap((r) => cols.map((c) => `${r.o}_${c.o}`)));
  for (let cc = 0; cc < TC; cc++) {
    for (let r = 0; r < S; r++) {
      for (let t = 0; t < TW; t++) {
        if (hit.has(`${r}_${t}`)) L.push(`  var ${acc(cc, r, t)} = 0.0;`);
      }
    }
  }
  L.push(`  for (var co = 0u; co < p.Cin; co++) {`);
  L.push(`    let b = (n * p.Cin + co) * p.H * ${rowWidth};`);
  for (const ra of rowAt) {
    if (d.XV4) {
      for (const q of new Set(colAt.map(quad))) {
        L.push(
          `    let e${id(ra)}_${id(q)} = ${
            operandRead(d.form, "dy", `b + ih${id(ra)} + iq${id(q)}`)
          };`,
        );
      }
      for (const ca of colAt) {
        L.push(
          `    let d${id(ra)}_${id(ca)} = select(0.0, e${id(ra)}_${id(quad(ca))}.${
            "xyzw"[((ca % 4) + 4) % 4]
          }, in${id(ra)} && ok${id(ca)});`,
        );
      }
      continue;
    }
    for (const ca of colAt) {
      L.push(
        `    let d${id(ra)}_${id(ca)} = select(0.0, ${
          operandRead(d.form, "dy", `b + ih${id(ra)} + iw${id(ca)}`, "f32")
        }, in${id(ra)} && ok${id(ca)});`,
      );
    }
  }
  const taps = new Set<number>();
  for (const r of rows) for (const c of cols) taps.add(r.k * KW + c.k);
  for (const k of [...taps].sort((a, b) => a - b)) {
    for (let g = 0; g < TC / 4; g++) {
      L.push(
        `    let w${k}_${g} = ${
          operandRead(d.form, "w", `(co * ${khw}u + ${k}u) * C4 + min(c0 / 4u + ${g}u, C4 - 1u)`)
        };`,
      );
    }
  }
  for (const r of rows) {
    for (const c of cols) {
      const k = r.k * KW + c.k;
      for (let cc = 0; cc < TC; cc++) {
        const a = acc(cc, r.o, c.o);
        L.push(
          `    ${a} = fma(d${id(r.at)}_${id(c.at)}, w${k}_${cc >> 2}.${"xyzw"[cc & 3]}, ${a});`,
        );
      }
    }
  }
  L.push(`  }`);
  // A row no tap reaches is all zeros: accumulating, it is left as it is; else a loop
  // (not unrolled: a 1×1/2 block's unrolled zero stores doubled its compile time) clears it.
  const reached = new Set(rows.map((r) => r.o));
  const V = d.V4 ? 4 : 1;
  for (let r = 0; r < S; r++) {
    L.push(reached.has(r) ? `  {` : `  if (!ACCUMULATE) {`);
    L.push(`  let oh = rb * ${S}u + ${r}u;`);
    L.push(`  if (oh < p.OH) {`);
    if (reached.has(r)) {
      L.push(
        ...store(
          "dx",
          "p.Cout",
          TC,
          TW,
          d.V4,
          (cc, t) => hit.has(`${r}_${t}`) ? acc(cc, r, t) : "0.0",
        ),
      );
    } else {
      L.push(`    for (var cc = 0u; cc < ${TC}u; cc++) {
      if (c0 + cc >= p.Cout) { break; }
      let o = ((n * p.Cout + c0 + cc) * p.OH + oh) * p.OW + ow0;
      for (var t = 0u; t < ${TW / V}u; t++) {
        if (ow0 + ${V}u * t < p.OW) { dx[o${d.V4 ? " / 4u" : ""} + t] = ${
        d.V4 ? "vec4(0.0)" : "0.0"
      }; }
      }
    }`);
    }
    L.push(`  }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join("\n") + "\n";
}

/**
 * First pass of the weight gradient: lane (s, cb, ib) sums, over the pixel tiles
 * s·chunk … (s + 1)·chunk − 1 (numbered (n·OH + oh)·OWB + owb, TW pixels of a row each),
 *   part[s, co, k·Cin + ci] = Σ dy[n, co, oh, ow] · x[n, ci, oh·S − P + ky, ow·S − P + kx]
 * for its TC output channels (block cb) and TI input channels (block ib), all taps k — the
 * layout conv2d_backward_weight_reduce.wgsl adds over s (with Cp = Cin). Per tile it loads
 * TC·TW dy values (vec4s when V4) and the TI input rows' values once, for TC·TI·KH·KW·TW
 * multiply-adds; the sums live in registers (or llvmpipe's stack, which is still cheaper
 * than per-lane loads).
 * Uniforms: Cin, Cout, H, W, OH, OW, OWB, tiles, chunk, lanes, gx, coBlocks, ciBlocks,
 * 1/OWB, 1/OH, 1/coBlocks, 1/ciBlocks.
 */
export function directBackwardWeightWgsl(d: DirectSpec & { TI: number }): string {
  const { KH, KW, S, P, TW, TC, TI } = d;
  const khw = KH * KW;
  const cols = [
    ...new Set(Array.from({ length: TW * KW }, (_, i) => Math.floor(i / KW) * S + (i % KW))),
  ].sort((a, b) => a - b);
  const L: string[] = [];
  L.push(
    `// GENERATED by kernels/conv2d_direct_gen.ts: direct weight gradient ${KH}×${KW}/${S} pad ${P}
struct Params {
  Cin: u32,
  Cout: u32,
  H: u32,
  W: u32,
  OH: u32,
  OW: u32,
  OWB: u32,
  tiles: u32,
  chunk: u32,
  lanes: u32,
  gx: u32,
  coBlocks: u32,
  ciBlocks: u32,
  invOWB: f32,
  invOH: f32,
  invCoBlocks: f32,
  invCiBlocks: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
${d.V4 ? operandDecl(d.form, 1, "dy4", "vec4") : operandDecl(d.form, 1, "dy", "f32")}
${operandDecl(d.form, 2, "x", d.XV4 ? "vec4" : "f32")}
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
${operandHelpers(d.form)}
${DIVIDE_WGSL}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = (wg.x + wg.y * p.gx) * 64u + li;
  if (lane >= p.lanes) { return; }
  let q = divide(lane, p.ciBlocks, p.invCiBlocks);
  let i0 = (lane - q * p.ciBlocks) * ${TI}u;
  let s = divide(q, p.coBlocks, p.invCoBlocks);
  let c0 = (q - s * p.coBlocks) * ${TC}u;`,
  );
  for (let cc = 0; cc < TC; cc++) L.push(`  let co${cc} = min(c0 + ${cc}u, p.Cout - 1u);`);
  for (let ci = 0; ci < TI; ci++) {
    L.push(`  let ci${ci} = min(i0 + ${ci}u, p.Cin - 1u);`);
    for (let cc = 0; cc < TC; cc++) {
      for (let k = 0; k < khw; k++) L.push(`  var g${cc}_${ci}_${k} = 0.0;`);
    }
  }
  L.push(`  let end = min((s + 1u) * p.chunk, p.tiles);
  for (var i = s * p.chunk; i < end; i++) {
    let q = divide(i, p.OWB, p.invOWB);
    let ow0 = (i - q * p.OWB) * ${TW}u;
    let n = divide(q, p.OH, p.invOH);
    let oh = q - n * p.OH;
    let row0 = i32(oh * ${S}u) - ${P};
    let col0 = i32(ow0 * ${S}u) - ${P};`);
  const B: string[] = [];
  for (let cc = 0; cc < TC; cc++) {
    B.push(`let dr${cc} = ((n * p.Cout + co${cc}) * p.OH + oh) * p.OW + ow0;`);
    if (d.V4) {
      // Rows of OW (a multiple of 4) pixels: the tile's vec4s are whole or past OW.
      for (let g = 0; g < TW / 4; g++) {
        B.push(
          `let v${cc}_${g} = select(vec4(0.0), ${
            operandRead(
              d.form,
              "dy4",
              `min(dr${cc} / 4u + ${g}u, ${operandLength(d.form, "dy4")} - 1u)`,
            )
          }, ow0 + ${4 * g}u < p.OW);`,
        );
        for (let k = 0; k < 4; k++) B.push(`let d${cc}_${4 * g + k} = v${cc}_${g}.${"xyzw"[k]};`);
      }
    } else {
      for (let t = 0; t < TW; t++) {
        B.push(
          `let d${cc}_${t} = select(0.0, ${
            operandRead(d.form, "dy", `dr${cc} + min(${t}u, p.OW - 1u - ow0)`, "f32")
          }, ow0 + ${t}u < p.OW);`,
        );
      }
    }
  }
  for (const c of cols) B.push(`let ok${c} = col0 + ${c} >= 0 && col0 + ${c} < i32(p.W);`);
  for (let ky = 0; ky < KH; ky++) {
    B.push(`let in${ky} = row0 + ${ky} >= 0 && row0 + ${ky} < i32(p.H);`);
    B.push(`let ih${ky} = u32(clamp(row0 + ${ky}, 0, i32(p.H) - 1));`);
  }
  B.push(...quadBase(d, ""));
  for (let ci = 0; ci < TI; ci++) {
    for (let ky = 0; ky < KH; ky++) {
      const row = `(n * p.Cin + ci${ci}) * p.H + ih${ky}`;
      B.push(...rowValues(d, `${ci}_${ky}`, row, cols, (c) => `in${ky} && ok${c}`, ""));
    }
    for (let cc = 0; cc < TC; cc++) {
      for (let k = 0; k < khw; k++) {
        const ky = Math.floor(k / KW), kx = k % KW;
        const terms = Array.from(
          { length: TW },
          (_, t) => `d${cc}_${t} * r${ci}_${ky}_${t * S + kx}`,
        );
        B.push(`g${cc}_${ci}_${k} += ${terms.join(" + ")};`);
      }
    }
  }
  L.push(...B.map((l) => "    " + l));
  L.push(`  }`);
  // part[s][co][k·Cin + ci]; channels past Cout or Cin are not written.
  for (let cc = 0; cc < TC; cc++) {
    L.push(`  if (c0 + ${cc}u < p.Cout) {`);
    L.push(`    let o${cc} = (s * p.Cout + c0 + ${cc}u) * ${khw}u * p.Cin;`);
    for (let ci = 0; ci < TI; ci++) {
      L.push(`    if (i0 + ${ci}u < p.Cin) {`);
      for (let k = 0; k < khw; k++) {
        L.push(`      part[o${cc} + ${k}u * p.Cin + i0 + ${ci}u] = g${cc}_${ci}_${k};`);
      }
      L.push(`    }`);
    }
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join("\n") + "\n";
}
