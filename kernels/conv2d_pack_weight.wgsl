// Packs convolution weights (OIHW, [G·cog][Cg][kh][kw]) for conv2d_forward.wgsl as
// wp[g][r][ky][kx][c], channels zero-padded to Cp = 4·Cp4:
//   flip = 0 (forward):        rows r = output channels,  wp[g, r, ky, kx, c] = w[g·cog + r, c, ky, kx]           (c < Cg)
//   flip = 1 (input gradient): rows r = input channels,   wp[g, r, ky, kx, c] = w[g·cog + c, r, kh−1−ky, kw−1−kx] (c < cog)
// The flipped, transposed kernel turns the transposed convolution into a plain one.
//
// Bindings: 0 uniform Params; 1 w (f32, read); 2 wp4 (vec4, read_write).
// Grid: x = ⌈kh·kw·Cp4 / 64⌉ (one vec4 per invocation along a packed row), y = G·rows;
//       workgroup 64.

struct Params {
  Cg: u32,
  cog: u32,
  kh: u32,
  kw: u32,
  Cp4: u32,
  rows: u32,
  flip: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> wp4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let khw = p.kh * p.kw;
  let i = wg.x * 64u + li;
  if (i >= khw * p.Cp4) { return; }
  let t = i / p.Cp4;
  let c4 = i - t * p.Cp4;
  let ky = t / p.kw;
  let kx = t - ky * p.kw;
  let g = wg.y / p.rows;
  let r = wg.y - g * p.rows;
  let channels = select(p.Cg, p.cog, p.flip != 0u);
  let last = arrayLength(&w) - 1u;
  var v = vec4(0.0);
  for (var q = 0u; q < 4u; q++) {
    let c = c4 * 4u + q;
    var src: u32;
    if (p.flip == 0u) {
      src = ((g * p.cog + r) * p.Cg + c) * khw + t;
    } else {
      src = ((g * p.cog + c) * p.Cg + r) * khw + (p.kh - 1u - ky) * p.kw + (p.kw - 1u - kx);
    }
    v[q] = select(0.0, w[min(src, last)], c < channels);
  }
  wp4[wg.y * khw * p.Cp4 + i] = v;
}
