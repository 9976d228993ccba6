// Depthwise convolution (groups = Cin = Cout) over a packed input, four channels per vec4:
//   y[n, c, oh, ow] (+)= Σ_{ky, kx} xp[n, oh·stride + ky, ow·stride + kx, c] · wp[ky, kx, c]
// xp is the input in NHWC order with the padding written out (conv2d_pack_input.wgsl with
// one group), wp the weight as [kh][kw][C] (conv2d_pack_weight.wgsl with one output row).
// The input gradient runs this kernel on the stride-dilated output gradient with the
// kernel flipped and stride 1. A depthwise layer does ~1 multiply-add per loaded value
// whatever the blocking, so unlike the dense kernels it is bound by loads.
//
// Each invocation computes 8 consecutive output pixels of one row for 4 channels; lanes are
// numbered ((n·OH + oh)·OWB + owBlock)·C4 + c4. 3×3 kernels at stride 1 or 2 read each
// input row segment once for all three kx (10 or 17 loads per row instead of 24); other
// kernels read per tap. With vecOut (OW a multiple of 4) results are stored as vec4s of
// four pixels.
//
// Bindings: 0 uniform Params; 1 xp4 (vec4, read); 2 wp4 (vec4, read); 3 y4 (vec4, read_write,
//           NCHW [N][C][OH][OW]).
// Grid: x·y fold ⌈lanes / 64⌉ workgroups (x < gx); 64 invocations per workgroup.

struct Params {
  C: u32,
  C4: u32,
  OH: u32,
  OW: u32,
  OWB: u32,
  kh: u32,
  kw: u32,
  stride: u32,
  Hp: u32,
  Wp: u32,
  lanes: u32,
  gx: u32,
  accumulate: u32,
  vecOut: u32,
  invC4: f32,
  invOWB: f32,
  invOH: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xp4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wp4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4<f32>>;

// ⌊i / d⌋ for i < 2^24 given inv = 1 / d: f32 multiply plus a correction (llvmpipe divides
// u32 vectors lane by lane).
fn divide(i: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(i) * inv);
  if (q * d > i) { q -= 1u; }
  if ((q + 1u) * d <= i) { q += 1u; }
  return q;
}

fn store1(i: u32, v: f32) {
  if (p.accumulate != 0u) { y4[i >> 2u][i & 3u] += v; } else { y4[i >> 2u][i & 3u] = v; }
}

// Channel c of pixels ow0..ow0+3 (element i = their first; i a multiple of 4 with vecOut).
fn store4(i: u32, c: u32, ow0: u32, v: vec4<f32>) {
  if (c >= p.C) { return; }
  if (p.vecOut != 0u && ow0 + 3u < p.OW) {
    if (p.accumulate != 0u) { y4[i >> 2u] += v; } else { y4[i >> 2u] = v; }
    return;
  }
  for (var t = 0u; t < 4u; t++) {
    if (ow0 + t < p.OW) { store1(i + t, v[t]); }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = (wg.x + wg.y * p.gx) * 64u + li;
  if (lane >= p.lanes) { return; }
  let q1 = divide(lane, p.C4, p.invC4);
  let c4 = lane - q1 * p.C4;
  let q2 = divide(q1, p.OWB, p.invOWB);
  let ow0 = (q1 - q2 * p.OWB) * 8u;
  let n = divide(q2, p.OH, p.invOH);
  let oh = q2 - n * p.OH;
  // Pixel t reads packed column (ow0 + t)·stride + kx; columns past OW are clamped (never stored).
  let last = p.OW - 1u;
  let x0 = min(ow0, last) * p.stride;
  let x1 = min(ow0 + 1u, last) * p.stride;
  let x2 = min(ow0 + 2u, last) * p.stride;
  let x3 = min(ow0 + 3u, last) * p.stride;
  let x4 = min(ow0 + 4u, last) * p.stride;
  let x5 = min(ow0 + 5u, last) * p.stride;
  let x6 = min(ow0 + 6u, last) * p.stride;
  let x7 = min(ow0 + 7u, last) * p.stride;
  var a0 = vec4(0.0);
  var a1 = vec4(0.0);
  var a2 = vec4(0.0);
  var a3 = vec4(0.0);
  var a4 = vec4(0.0);
  var a5 = vec4(0.0);
  var a6 = vec4(0.0);
  var a7 = vec4(0.0);
  let lastCol = p.Wp - 1u;
  if (p.kh == 3u && p.kw == 3u && p.stride <= 2u) {
    let col = ow0 * p.stride;
    for (var ky = 0u; ky < 3u; ky++) {
      let row = (n * p.Hp + oh * p.stride + ky) * p.Wp;
      let w0 = wp4[ky * 3u * p.C4 + c4];
      let w1 = wp4[(ky * 3u + 1u) * p.C4 + c4];
      let w2 = wp4[(ky * 3u + 2u) * p.C4 + c4];
      if (p.stride == 1u) {
        let r0 = xp4[(row + min(col + 0u, lastCol)) * p.C4 + c4];
        let r1 = xp4[(row + min(col + 1u, lastCol)) * p.C4 + c4];
        let r2 = xp4[(row + min(col + 2u, lastCol)) * p.C4 + c4];
        let r3 = xp4[(row + min(col + 3u, lastCol)) * p.C4 + c4];
        let r4 = xp4[(row + min(col + 4u, lastCol)) * p.C4 + c4];
        let r5 = xp4[(row + min(col + 5u, lastCol)) * p.C4 + c4];
        let r6 = xp4[(row + min(col + 6u, lastCol)) * p.C4 + c4];
        let r7 = xp4[(row + min(col + 7u, lastCol)) * p.C4 + c4];
        let r8 = xp4[(row + min(col + 8u, lastCol)) * p.C4 + c4];
        let r9 = xp4[(row + min(col + 9u, lastCol)) * p.C4 + c4];
        a0 = fma(r0, w0, fma(r1, w1, fma(r2, w2, a0)));
        a1 = fma(r1, w0, fma(r2, w1, fma(r3, w2, a1)));
        a2 = fma(r2, w0, fma(r3, w1, fma(r4, w2, a2)));
        a3 = fma(r3, w0, fma(r4, w1, fma(r5, w2, a3)));
        a4 = fma(r4, w0, fma(r5, w1, fma(r6, w2, a4)));
        a5 = fma(r5, w0, fma(r6, w1, fma(r7, w2, a5)));
        a6 = fma(r6, w0, fma(r7, w1, fma(r8, w2, a6)));
        a7 = fma(r7, w0, fma(r8, w1, fma(r9, w2, a7)));
      } else {
        let r0 = xp4[(row + min(col + 0u, lastCol)) * p.C4 + c4];
        let r1 = xp4[(row + min(col + 1u, lastCol)) * p.C4 + c4];
        let r2 = xp4[(row + min(col + 2u, lastCol)) * p.C4 + c4];
        let r3 = xp4[(row + min(col + 3u, lastCol)) * p.C4 + c4];
        let r4 = xp4[(row + min(col + 4u, lastCol)) * p.C4 + c4];
        let r5 = xp4[(row + min(col + 5u, lastCol)) * p.C4 + c4];
        let r6 = xp4[(row + min(col + 6u, lastCol)) * p.C4 + c4];
        let r7 = xp4[(row + min(col + 7u, lastCol)) * p.C4 + c4];
        let r8 = xp4[(row + min(col + 8u, lastCol)) * p.C4 + c4];
        let r9 = xp4[(row + min(col + 9u, lastCol)) * p.C4 + c4];
        let r10 = xp4[(row + min(col + 10u, lastCol)) * p.C4 + c4];
        let r11 = xp4[(row + min(col + 11u, lastCol)) * p.C4 + c4];
        let r12 = xp4[(row + min(col + 12u, lastCol)) * p.C4 + c4];
        let r13 = xp4[(row + min(col + 13u, lastCol)) * p.C4 + c4];
        let r14 = xp4[(row + min(col + 14u, lastCol)) * p.C4 + c4];
        let r15 = xp4[(row + min(col + 15u, lastCol)) * p.C4 + c4];
        let r16 = xp4[(row + min(col + 16u, lastCol)) * p.C4 + c4];
        a0 = fma(r0, w0, fma(r1, w1, fma(r2, w2, a0)));
        a1 = fma(r2, w0, fma(r3, w1, fma(r4, w2, a1)));
        a2 = fma(r4, w0, fma(r5, w1, fma(r6, w2, a2)));
        a3 = fma(r6, w0, fma(r7, w1, fma(r8, w2, a3)));
        a4 = fma(r8, w0, fma(r9, w1, fma(r10, w2, a4)));
        a5 = fma(r10, w0, fma(r11, w1, fma(r12, w2, a5)));
        a6 = fma(r12, w0, fma(r13, w1, fma(r14, w2, a6)));
        a7 = fma(r14, w0, fma(r15, w1, fma(r16, w2, a7)));
      }
    }
  } else {
    for (var ky = 0u; ky < p.kh; ky++) {
      let row = (n * p.Hp + oh * p.stride + ky) * p.Wp;
      for (var kx = 0u; kx < p.kw; kx++) {
        let wv = wp4[(ky * p.kw + kx) * p.C4 + c4];
        let r = row + kx;
        a0 = fma(xp4[(r + x0) * p.C4 + c4], wv, a0);
        a1 = fma(xp4[(r + x1) * p.C4 + c4], wv, a1);
        a2 = fma(xp4[(r + x2) * p.C4 + c4], wv, a2);
        a3 = fma(xp4[(r + x3) * p.C4 + c4], wv, a3);
        a4 = fma(xp4[(r + x4) * p.C4 + c4], wv, a4);
        a5 = fma(xp4[(r + x5) * p.C4 + c4], wv, a5);
        a6 = fma(xp4[(r + x6) * p.C4 + c4], wv, a6);
        a7 = fma(xp4[(r + x7) * p.C4 + c4], wv, a7);
      }
    }
  }
  if (ow0 >= p.OW) { return; }
  let c = c4 * 4u;
  let plane = p.OH * p.OW;
  let at = ((n * p.C + c) * p.OH + oh) * p.OW + ow0;
  store4(at, c, ow0, vec4(a0.x, a1.x, a2.x, a3.x));
  store4(at + plane, c + 1u, ow0, vec4(a0.y, a1.y, a2.y, a3.y));
  store4(at + 2u * plane, c + 2u, ow0, vec4(a0.z, a1.z, a2.z, a3.z));
  store4(at + 3u * plane, c + 3u, ow0, vec4(a0.w, a1.w, a2.w, a3.w));
  if (ow0 + 4u >= p.OW) { return; }
  store4(at + 4u, c, ow0 + 4u, vec4(a4.x, a5.x, a6.x, a7.x));
  store4(at + plane + 4u, c + 1u, ow0 + 4u, vec4(a4.y, a5.y, a6.y, a7.y));
  store4(at + 2u * plane + 4u, c + 2u, ow0 + 4u, vec4(a4.z, a5.z, a6.z, a7.z));
  store4(at + 3u * plane + 4u, c + 3u, ow0 + 4u, vec4(a4.w, a5.w, a6.w, a7.w));
}
