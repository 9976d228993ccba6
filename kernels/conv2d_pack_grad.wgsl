// Packs the output gradient for the weight-gradient GEMM: dy (NCHW, [N][Ctot][OH·OW]) →
// dyt[c][P] with P = n·OH·OW + oh·OW + ow running over the whole batch, rows padded with
// zeros to Pq vec4s, so a row of the GEMM's A operand is contiguous across images.
//   dyt[c, P] = dy[P / OHW, c, P % OHW]   (0 for P ≥ N·OHW)
//
// When OH·OW is a multiple of 4 (VEC_IN, an override constant: llvmpipe runs both sides of
// an if on a uniform) four pixels never straddle two images and move as one vec4.
//
// Bindings: 0 uniform Params; 1 dy (f32, read); 2 dy4 (the same view as vec4s);
//           3 dyt4 (vec4, read_write).
// Grid: x = ⌈Pq / 64⌉ (one vec4 = four pixels per invocation), y = Ctot; workgroup 64.

struct Params {
  NP: u32,
  OHW: u32,
  Ctot: u32,
  Pq: u32,
  invOHW: f32,
}

override VEC_IN: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> dy4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dyt4: array<vec4<f32>>;

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
  let t = wg.x * 64u + li;
  if (t >= p.Pq) { return; }
  let c = wg.y;
  let P0 = min(t * 4u, p.NP - 1u);
  var n = divide(P0, p.OHW, p.invOHW);
  var at = P0 - n * p.OHW;
  if (VEC_IN) {
    dyt4[c * p.Pq + t] = dy4[((n * p.Ctot + c) * p.OHW + at) >> 2u];
    return;
  }
  var v = vec4(0.0);
  for (var q = 0u; q < 4u; q++) {
    v[q] = select(0.0, dy[(n * p.Ctot + c) * p.OHW + at], t * 4u + q < p.NP);
    at += 1u;
    if (at == p.OHW) {
      at = 0u;
      n = min(n + 1u, p.NP / p.OHW - 1u);
    }
  }
  dyt4[c * p.Pq + t] = v;
}
