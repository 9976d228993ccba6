// Packs a convolution input for the implicit-GEMM kernels: NCHW x → xp[g][n][hp][wp][c]
// (NHWC per group, channels padded with zeros to Cp = 4·Cp4), with the spatial padding
// laid out explicitly so the GEMM loops need no bounds tests:
//   xp[g, n, padT + dil·i, padL + dil·j, c] = x[n, g·Cg + c, step·i, step·j]   (c < Cg; else 0)
// for source rows i < rows, columns j < cols. Positions no source pixel maps to (the
// padding, and the holes of a dilated copy) are never written: the op allocates xp
// zero-filled, once, and they stay zero. step > 1 keeps only the pixels a 1×1 strided
// convolution reads.
//
// Each invocation moves 4 channels × 4 consecutive source columns: with VEC_IN (step 1 and
// a row width that is a multiple of 4) as 4 vec4 reads and 4 vec4 writes, where scalar
// reads would cost a lane loop each on llvmpipe. VEC_IN is an override constant: llvmpipe
// runs both sides of an if on a uniform.
//
// Bindings: 0 uniform Params; 1 x (f32, read, NCHW [N][C][srcH][srcW]); 2 x4 (the same view
//           as vec4s); 3 xp4 (vec4, read_write).
// Grid: x = ⌈⌈cols / 4⌉·Cp4 / 64⌉, y = rows, z = N·G; workgroup 64.

struct Params {
  N: u32,
  C: u32,
  Cg: u32,
  Cp4: u32,
  srcH: u32,
  srcW: u32,
  rows: u32,
  cols: u32,
  Hp: u32,
  Wp: u32,
  padT: i32,
  padL: i32,
  dil: u32,
  step: u32,
  groups: u32,
  invCp4: f32,
}

override VEC_IN: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> xp4: array<vec4<f32>>;

// ⌊i / d⌋ for i < 2^24 given inv = 1 / d: f32 multiply plus a correction (llvmpipe divides
// u32 vectors lane by lane).
fn divide(i: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(i) * inv);
  if (q * d > i) { q -= 1u; }
  if ((q + 1u) * d <= i) { q += 1u; }
  return q;
}

// Source columns j..j+3 of one channel row starting at element r (0 past the channel count
// or the row's end).
fn readRow(r: u32, j: u32, ok: bool) -> vec4<f32> {
  if (!ok) { return vec4(0.0); }
  if (VEC_IN) { return x4[(r + j) >> 2u]; }
  let last = p.cols - 1u;
  var v: vec4<f32>;
  for (var t = 0u; t < 4u; t++) {
    v[t] = select(0.0, x[r + min(j + t, last) * p.step], j + t < p.cols);
  }
  return v;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.x * 64u + li;
  let quads = (p.cols + 3u) / 4u;
  if (i >= quads * p.Cp4) { return; }
  let jq = divide(i, p.Cp4, p.invCp4);
  let c4 = i - jq * p.Cp4;
  let j = jq * 4u;
  let row = wg.y;
  let n = wg.z / p.groups;
  let g = wg.z - n * p.groups;
  let hp = p.padT + i32(p.dil * row);
  if (hp < 0 || hp >= i32(p.Hp)) { return; }
  let plane = p.srcH * p.srcW;
  let c = g * p.Cg + c4 * 4u;
  let r = (n * p.C + c) * plane + row * p.step * p.srcW;
  let ch = c4 * 4u;
  let v0 = readRow(r, j, ch < p.Cg);
  let v1 = readRow(r + plane, j, ch + 1u < p.Cg);
  let v2 = readRow(r + 2u * plane, j, ch + 2u < p.Cg);
  let v3 = readRow(r + 3u * plane, j, ch + 3u < p.Cg);
  let out = ((g * p.N + n) * p.Hp + u32(hp)) * p.Wp;
  for (var t = 0u; t < 4u; t++) {
    let wp = p.padL + i32(p.dil * (j + t));
    if (j + t < p.cols && wp >= 0 && wp < i32(p.Wp)) {
      xp4[(out + u32(wp)) * p.Cp4 + c4] = vec4(v0[t], v1[t], v2[t], v3[t]);
    }
  }
}
