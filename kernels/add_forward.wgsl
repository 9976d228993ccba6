// Residual add: y = a + b.
// Bindings: 0 uniform {items, gx}; 1 a (read); 2 b (read); 3 y (write), each `items` vec4s
// (`main`, n % 4 == 0) or floats (`scalar`); the entry points alias bindings 1–3.
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> a1: array<f32>;
@group(0) @binding(2) var<storage, read> b1: array<f32>;
@group(0) @binding(3) var<storage, read_write> y1: array<f32>;

fn item(wid: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * p.gx) * 64u + lid.x;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y4[e] = a4[e] + b4[e]; }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y1[e] = a1[e] + b1[e]; }
}
