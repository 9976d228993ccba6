// ReLU forward: y = max(x, 0).
// Bindings: 0 uniform {items, gx}; 1 x (read); 2 y (write), each `items` vec4s (`main`,
// n % 4 == 0) or floats (`scalar`). The two entry points alias bindings 1–2 with different
// element types; each uses only its own.
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;

fn item(wid: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * p.gx) * 64u + lid.x;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y4[e] = max(x4[e], vec4f(0.0)); }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y1[e] = max(x1[e], 0.0); }
}
