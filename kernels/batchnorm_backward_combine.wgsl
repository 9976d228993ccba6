// Batch normalisation backward, pass 2 of 3: per channel, add the (Σdy, Σdy·(x − mean))
// partials in a fixed order, then
//   dβ = Σ dy,  dγ = invstd·Σ dy·(x − mean)       (written when affine)
//   dx = k1·dy + k2 + k3·(x − mean) with k1 = γ·invstd, k2 = −k1·dβ/m, k3 = −k1·invstd·dγ/m
// (m = N·HW; γ = 1 when affine is 0), saved with the mean as one vec4 per channel for
// batchnorm_backward.
// Bindings: 0 uniform {C, parts, inv_count, affine}; 1 partial (read, vec2, `parts` per
// channel); 2 gamma, 3 invstd (read, C); 4 coef (write, vec4 per channel: k1, k2, k3, mean);
// 5 dgamma, 6 dbeta (write, C); 7 mean (read, C).
// Grid: ceil(C/64) workgroups of 64, one channel per invocation.
struct Params { C: u32, parts: u32, inv_count: f32, affine: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec2f>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(7) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> coef: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var s = vec2f(0.0);
  for (var k = 0u; k < p.parts; k++) { s += partial[c * p.parts + k]; }
  let r = invstd[c];
  let db = s.x;
  let dg = s.y * r;
  var g = 1.0;
  if (p.affine != 0u) {
    g = gamma[c];
    dgamma[c] = dg;
    dbeta[c] = db;
  }
  let k1 = g * r;
  coef[c] = vec4f(k1, -k1 * db * p.inv_count, -k1 * r * dg * p.inv_count, mean[c]);
}
