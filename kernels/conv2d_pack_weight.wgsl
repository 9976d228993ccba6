// Packs convolution weights (OIHW, [G·cog][Cg][kh][kw]) for conv2d_forward.wgsl as
// wp[g][r][ty][tx][c] over a subH × subW grid of taps, channels zero-padded to Cp = 4·Cp4:
//   flip = 0 (forward, subH = kh, subW = kw): rows r = output channels,
//     wp[g, r, ty, tx, c] = w[g·cog + r, c, ty, tx]                        (c < Cg)
//   flip = 1 (input gradient): rows r = input channels, taps flipped and strided,
//     wp[g, r, ty, tx, c] = w[g·cog + c, r, ky0 + step·(subH−1−ty), kx0 + step·(subW−1−tx)]  (c < cog)
// With step = 1, ky0 = kx0 = 0 and the whole kernel, flip = 1 turns the transposed
// convolution into a plain one; with step = stride it picks the taps one output phase of a
// strided layer's input gradient uses.
//
// Bindings: 0 uniform Params; 1 w (f32, read); 2 wp4 (vec4, read_write).
// Grid: x = ⌈subH·subW·Cp4 / 64⌉ (one vec4 per invocation along a packed row), y = G·rows;
//       workgroup 64.

struct Params {
  Cg: u32,
  cog: u32,
  kh: u32,
  kw: u32,
  Cp4: u32,
  rows: u32,
  subH: u32,
  subW: u32,
  ky0: u32,
  kx0: u32,
  step: u32,
}

// flip = 1 above (an override constant: llvmpipe runs both sides of an if on a uniform).
override FLIP: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> wp4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let taps = p.subH * p.subW;
  let i = wg.x * 64u + li;
  if (i >= taps * p.Cp4) { return; }
  let t = i / p.Cp4;
  let c4 = i - t * p.Cp4;
  let ty = t / p.subW;
  let tx = t - ty * p.subW;
  let g = wg.y / p.rows;
  let r = wg.y - g * p.rows;
  let khw = p.kh * p.kw;
  var tap: u32;
  var channels: u32;
  if (!FLIP) {
    tap = ty * p.kw + tx;
    channels = p.Cg;
  } else {
    tap = (p.ky0 + p.step * (p.subH - 1u - ty)) * p.kw + p.kx0 + p.step * (p.subW - 1u - tx);
    channels = p.cog;
  }
  let last = arrayLength(&w) - 1u;
  var v = vec4(0.0);
  for (var q = 0u; q < 4u; q++) {
    let c = c4 * 4u + q;
    var src: u32;
    if (!FLIP) {
      src = ((g * p.cog + r) * p.Cg + c) * khw + tap;
    } else {
      src = ((g * p.cog + c) * p.Cg + r) * khw + tap;
    }
    v[q] = select(0.0, w[min(src, last)], c < channels);
  }
  wp4[wg.y * taps * p.Cp4 + i] = v;
}
