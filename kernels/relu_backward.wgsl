// ReLU backward: dx = dy where x > 0, else 0 (PyTorch: zero gradient at x = 0).
// Bindings: 0 uniform {items, gx}; 1 dy (read); 2 x (read); 3 dx (write), each `items` vec4s
// (`main`, n % 4 == 0) or floats (`scalar`); the entry points alias bindings 1–3.
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx1: array<f32>;

fn item(wid: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * p.gx) * 64u + lid.x;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { dx4[e] = select(vec4f(0.0), dy4[e], x4[e] > vec4f(0.0)); }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { dx1[e] = select(0.0, dy1[e], x1[e] > 0.0); }
}
