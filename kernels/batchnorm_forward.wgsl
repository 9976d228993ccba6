// Batch normalisation, training forward, pass 3 of 3: y = (x − mean)·invstd·γ + β with the
// per-channel (mean, invstd·γ, β) packed by batchnorm_combine (subtracting the mean first
// keeps precision for channels far from zero).
// Bindings: 0 uniform {items, gx}; 1 x (read); 2 y (write), `items` vec4s (`main`,
// HW % 4 == 0, hwi = HW/4) or floats (`scalar`, hwi = HW), aliased; 3 coef (read, vec4 per
// channel).
// Grid: 2-D, 64 invocations per workgroup, PER consecutive items each (PER divides hwi),
// e = ((wid.x + wid.y·gx)·64 + lid)·PER + r, channel c = (e / hwi) % C.
struct Params { items: u32, gx: u32 }
//! include plane_items
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
@group(0) @binding(3) var<storage, read> coef: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coef[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    y4[e] = (x4[e] - k.x) * k.y + k.z;
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coef[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    y1[e] = (x1[e] - k.x) * k.y + k.z;
  }
}
