// Batch normalisation, inference mode: y = (x − running_mean)·γ/sqrt(running_var + eps) + β
// (γ = 1, β = 0 when affine is 0).
// Bindings: 0 uniform {items, gx, eps, affine}; 1 x (read); 2 y (write), `items`
// vec4s (`main`, HW % 4 == 0, hwi = HW/4) or floats (`scalar`, hwi = HW), aliased;
// 3 gamma, 4 beta, 5 running_mean, 6 running_var (read, C).
// Grid: 2-D, 64 invocations per workgroup, PER consecutive items each (PER divides hwi),
// e = ((wid.x + wid.y·gx)·64 + lid)·PER + r, channel c = (e / hwi) % C.
struct Params { items: u32, gx: u32, eps: f32, affine: u32 }
// Shape constants: divisions by them compile to multiply-shift (a per-lane integer
// division by a runtime value costs more than the memory traffic on llvmpipe).
override HWI: u32 = 1u; // items per plane
override CH: u32 = 1u; // channels
// ALIGNED: HWI is a multiple of 64, so a workgroup's items share one channel, computed from
// the workgroup id: a uniform value, one broadcast load instead of a gather per lane.
override ALIGNED: bool = false;
// PER items per invocation, all of one plane (HWI % PER == 0): the channel's coefficients
// are read once for them (a per-lane fetch on llvmpipe, as costly as the item's own).
override PER: u32 = 1u;

/**
 * The invocation's first item e0 (it takes e0 … e0 + PER − 1) and their channel. With ALIGNED
 * the channel comes from the workgroup's first item: uniform across the workgroup.
 */
fn firstItem(wid: vec3u, lid: vec3u) -> vec2u {
  let base = (wid.x + wid.y * p.gx) * 64u * PER;
  let e0 = base + lid.x * PER;
  if (ALIGNED) { return vec2u(e0, (base / HWI) % CH); }
  return vec2u(e0, (e0 / HWI) % CH);
}
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
