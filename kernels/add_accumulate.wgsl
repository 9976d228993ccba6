// Gradient accumulation in place: y += alpha·x (a residual block's input gradient is the sum
// of its branches' gradients; the same pattern sums any two gradient paths), and its start
// y = alpha·x (`assign`, `assign_scalar`: the first micro-batch of an accumulated step).
// Bindings: 0 uniform {items, gx, alpha}; 1 x (read); 2 y (read-write), each `items` vec4s
// (`main`, n % 4 == 0) or floats (`scalar`); the entry points alias bindings 1–2.
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32, alpha: f32 }
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
  if (e < p.items) { y4[e] = y4[e] + p.alpha * x4[e]; }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y1[e] = y1[e] + p.alpha * x1[e]; }
}

@compute @workgroup_size(64)
fn assign(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y4[e] = p.alpha * x4[e]; }
}

@compute @workgroup_size(64)
fn assign_scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y1[e] = p.alpha * x1[e]; }
}
