// Packs a convolution input for the implicit-GEMM kernels: NCHW x → xp[g][n][hp][wp][c]
// (NHWC per group, channels padded with zeros to Cp = 4·Cp4), with the spatial padding
// written out as zeros so the GEMM loops need no bounds tests:
//   xp[g, n, hp, wp, c] = x[n, g·Cg + c, (hp − padT) / dil, (wp − padL) / dil]
// when c < Cg and both divisions are exact and land inside the srcH × srcW image, else 0.
// dil = 1 for the forward pass and the weight gradient; for the input gradient the output
// gradient is packed with dil = stride and padT = kh − 1 − pad (a zero-dilated copy whose
// stride-1 convolution with the flipped kernel is the transposed convolution).
//
// Bindings: 0 uniform Params; 1 x (f32, read, NCHW [N][C][srcH][srcW]); 2 xp4 (vec4, read_write).
// Grid: x = ⌈Wp·Cp4 / 64⌉ (one vec4 per invocation along a packed row), y = Hp, z = N·G;
//       workgroup 64.

struct Params {
  N: u32,
  C: u32,
  Cg: u32,
  Cp4: u32,
  srcH: u32,
  srcW: u32,
  Hp: u32,
  Wp: u32,
  padT: i32,
  padL: i32,
  dil: i32,
  groups: u32,
  invCp4: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> xp4: array<vec4<f32>>;

// ⌊i / d⌋ for i < 2^24 given inv = 1 / d: f32 multiply plus a correction (llvmpipe divides
// u32 vectors lane by lane).
fn divide(i: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(i) * inv);
  if (q * d > i) { q -= 1u; }
  if ((q + 1u) * d <= i) { q += 1u; }
  return q;
}

// Source coordinate of packed position t, or −1 when it is padding or between dilated rows.
// (Integer division only when dilated: llvmpipe divides vectors lane by lane.)
fn source(t: u32, pad: i32, size: u32) -> i32 {
  var d = i32(t) - pad;
  if (p.dil != 1) {
    if (d % p.dil != 0) { return -1; }
    d = d / p.dil;
  }
  if (d < 0 || d >= i32(size)) { return -1; }
  return d;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.x * 64u + li;
  if (i >= p.Wp * p.Cp4) { return; }
  let wp = divide(i, p.Cp4, p.invCp4);
  let c4 = i - wp * p.Cp4;
  let hp = wg.y;
  let n = wg.z / p.groups;
  let g = wg.z - n * p.groups;
  let sh = source(hp, p.padT, p.srcH);
  let sw = source(wp, p.padL, p.srcW);
  let inside = sh >= 0 && sw >= 0;
  // Clamped so every read is in bounds; select() then zeroes what lies outside.
  let plane = p.srcH * p.srcW;
  let pixel = u32(max(sh, 0)) * p.srcW + u32(max(sw, 0));
  let c0 = g * p.Cg + c4 * 4u;
  let lastC = g * p.Cg + p.Cg - 1u;
  var v = vec4(0.0);
  for (var q = 0u; q < 4u; q++) {
    let ok = inside && c4 * 4u + q < p.Cg;
    v[q] = select(0.0, x[(n * p.C + min(c0 + q, lastC)) * plane + pixel], ok);
  }
  xp4[((g * p.N + n) * p.Hp + hp) * p.Wp * p.Cp4 + i] = v;
}
