// SGD with momentum and weight decay (torch.optim.SGD, dampening 0, no Nesterov) over one
// parameter group, skipped entirely when the step was judged non-finite:
//   g' = g·(clip ? scale : 1) + (decay bit ? wd·p : 0);  v = μ·v + g';  p = p − lr·v
// scale and applied come from gradnorm_final's status; lr from the control words the host
// writes before each submit (so the dispatch is built once). Decay is one bit per element
// (bit e & 31 of word e >> 5): BN, PReLU and biases get none.
// Bindings: 0 uniform {items, gx, clip, momentum, wd}; 1 grad (read); 2 param (read-write);
// 3 velocity (read-write), each `items` vec4s (`main`) or floats (`scalar`), aliased;
// 4 decay mask (read, u32 words); 5 control (read, u32[4]); 6 status (read, u32[8]).
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32, clip: u32, momentum: f32, wd: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> w4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> v4: array<vec4f>;
@group(0) @binding(1) var<storage, read> g1: array<f32>;
@group(0) @binding(2) var<storage, read_write> w1: array<f32>;
@group(0) @binding(3) var<storage, read_write> v1: array<f32>;
@group(0) @binding(4) var<storage, read> decay: array<u32>;
@group(0) @binding(5) var<storage, read> control: array<u32>;
@group(0) @binding(6) var<storage, read> status: array<u32>;

fn item(wid: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * p.gx) * 64u + lid.x;
}

fn grad_scale() -> f32 {
  return select(1.0, bitcast<f32>(status[2]), p.clip != 0u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e >= p.items || status[3] == 0u) { return; }
  let lr = bitcast<f32>(control[0]);
  let first = 4u * e;
  let bits = (decay[first >> 5u] >> (first & 31u)) & 0xfu;
  let d = vec4<bool>((bits & 1u) != 0u, (bits & 2u) != 0u, (bits & 4u) != 0u, (bits & 8u) != 0u);
  let w = w4[e];
  let g = g4[e] * grad_scale() + select(vec4f(0.0), p.wd * w, d);
  let v = p.momentum * v4[e] + g;
  v4[e] = v;
  w4[e] = w - lr * v;
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e >= p.items || status[3] == 0u) { return; }
  let lr = bitcast<f32>(control[0]);
  let d = ((decay[e >> 5u] >> (e & 31u)) & 1u) != 0u;
  let w = w1[e];
  let g = g1[e] * grad_scale() + select(0.0, p.wd * w, d);
  let v = p.momentum * v1[e] + g;
  v1[e] = v;
  w1[e] = w - lr * v;
}
