// Weight gradient of a depthwise convolution, in chunks of output pixels (first pass):
//   part[s, c, ky·kw + kx] = Σ_{P = (n, oh, ow) in chunk s} dyp[P, c] · xp[n, oh·stride + ky, ow·stride + kx, c]
// dyp is the output gradient packed NHWC without padding, xp the packed, padded input
// (both conv2d_pack_input.wgsl, one group). conv2d_backward_weight_reduce.wgsl then adds
// the chunks in order (deterministic, no atomics).
//
// Each invocation sums one tap for 4 channels over its chunk, four pixels per step; lanes
// are numbered (s·khw + tap)·C4 + c4.
//
// Bindings: 0 uniform Params; 1 dyp4 (vec4, read); 2 xp4 (vec4, read); 3 part (f32, read_write).
// Grid: x·y fold ⌈splits·khw·C4 / 64⌉ workgroups (x < gx); 64 invocations per workgroup.

struct Params {
  C: u32,
  C4: u32,
  OH: u32,
  OW: u32,
  kw: u32,
  khw: u32,
  stride: u32,
  Hp: u32,
  Wp: u32,
  NP: u32,
  chunk: u32,
  splits: u32,
  gx: u32,
  invC4: f32,
  invKhw: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dyp4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> xp4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

// ⌊i / d⌋ for i < 2^24 given inv = 1 / d: f32 multiply plus a correction (llvmpipe divides
// u32 vectors lane by lane).
fn divide(i: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(i) * inv);
  if (q * d > i) { q -= 1u; }
  if ((q + 1u) * d <= i) { q += 1u; }
  return q;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = (wg.x + wg.y * p.gx) * 64u + li;
  let q1 = divide(lane, p.C4, p.invC4);
  let c4 = lane - q1 * p.C4;
  let s = divide(q1, p.khw, p.invKhw);
  let tap = q1 - s * p.khw;
  if (s >= p.splits) { return; }
  let ky = tap / p.kw;
  let kx = tap - ky * p.kw;
  let P0 = s * p.chunk;
  let P1 = min(P0 + p.chunk, p.NP);
  // (n, oh, ow) of pixel P0 and the packed-input index of its tap, stepped pixel by pixel.
  let OHW = p.OH * p.OW;
  var n = P0 / OHW;
  var oh = (P0 - n * OHW) / p.OW;
  var ow = P0 - n * OHW - oh * p.OW;
  var xi = ((n * p.Hp + oh * p.stride + ky) * p.Wp + ow * p.stride + kx) * p.C4 + c4;
  let stepX = p.stride * p.C4;
  let stepY = (p.stride * p.Wp - p.OW * p.stride) * p.C4;
  let stepN = (p.Hp - p.OH * p.stride) * p.Wp * p.C4;
  var acc = vec4(0.0);
  for (var P = P0; P < P1; P++) {
    acc = fma(dyp4[P * p.C4 + c4], xp4[xi], acc);
    ow += 1u;
    xi += stepX;
    if (ow == p.OW) {
      ow = 0u;
      oh += 1u;
      xi += stepY;
      if (oh == p.OH) {
        oh = 0u;
        xi += stepN;
      }
    }
  }
  let o = s * p.C * p.khw + tap;
  for (var q = 0u; q < 4u; q++) {
    let c = c4 * 4u + q;
    if (c < p.C) { part[o + c * p.khw] = acc[q]; }
  }
}
