// Batch normalisation backward, pass 3 of 3: dx = k1·dy + k2 + k3·(x − mean) with the
// per-channel (k1, k2, k3, mean) of batchnorm_backward_combine (which fold in γ, invstd, dβ, dγ).
// Bindings: 0 uniform {items, gx}; 1 dy (read); 2 x (read); 3 dx (write), `items`
// vec4s (`main`, HW % 4 == 0, hwi = HW/4) or floats (`scalar`, hwi = HW), aliased;
// 4 coef (read, vec4 per channel).
// Grid: 2-D, 64 invocations per workgroup, PER consecutive items each (PER divides hwi),
// e = ((wid.x + wid.y·gx)·64 + lid)·PER + r, channel c = (e / hwi) % C.
struct Params { items: u32, gx: u32 }
//! include plane_items
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx1: array<f32>;
@group(0) @binding(4) var<storage, read> coef: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coef[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    dx4[e] = k.x * dy4[e] + k.y + k.z * (x4[e] - k.w);
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coef[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    dx1[e] = k.x * dy1[e] + k.y + k.z * (x1[e] - k.w);
  }
}
