// PReLU forward with one slope per channel: y = x for x > 0, a_c·x otherwise.
// Bindings: 0 uniform {items, gx}; 1 x (read); 2 slope (read, C); 3 y (write);
// x and y are `items` vec4s (`main`, HW % 4 == 0, hwi = HW/4) or floats (`scalar`,
// hwi = HW), aliased.
// Grid: 2-D, 64 invocations per workgroup, PER consecutive items each (PER divides hwi),
// e = ((wid.x + wid.y·gx)·64 + lid)·PER + r, channel c = (e / hwi) % C.
struct Params { items: u32, gx: u32 }
//! include plane_items
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> y1: array<f32>;
@group(0) @binding(2) var<storage, read> slope: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let a = slope[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    let v = x4[e];
    y4[e] = select(a * v, v, v > vec4f(0.0));
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let a = slope[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    let v = x1[e];
    y1[e] = select(a * v, v, v > 0.0);
  }
}
