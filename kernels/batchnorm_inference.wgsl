// Batch normalisation, inference mode: y = (x − running_mean)·γ/sqrt(running_var + eps) + β
// (γ = 1, β = 0 when affine is 0).
// Bindings: 0 uniform {items, gx, eps, affine}; 1 x (read); 2 y (write), `items`
// vec4s (`main`, HW % 4 == 0, hwi = HW/4) or floats (`scalar`, hwi = HW), aliased;
// 3 gamma, 4 beta, 5 running_mean, 6 running_var (read, C).
// Grid: 2-D, 64 invocations per workgroup, PER consecutive items each (PER divides hwi),
// e = ((wid.x + wid.y·gx)·64 + lid)·PER + r, channel c = (e / hwi) % C.
struct Params { items: u32, gx: u32, eps: f32, affine: u32 }
//! include plane_items
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read> running_mean: array<f32>;
@group(0) @binding(6) var<storage, read> running_var: array<f32>;

/** (mean, scale, β) of channel c: y = (x − mean)·scale + β (subtracting first keeps precision). */
fn coefficients(c: u32) -> vec3f {
  var g = 1.0;
  var b = 0.0;
  if (p.affine != 0u) { g = gamma[c]; b = beta[c]; }
  return vec3f(running_mean[c], g / sqrt(running_var[c] + p.eps), b);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coefficients(item.y);
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    y4[e] = (x4[e] - k.x) * k.y + k.z;
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coefficients(item.y);
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    y1[e] = (x1[e] - k.x) * k.y + k.z;
  }
}
