// AdamW (torch.optim.AdamW: decoupled weight decay, bias-corrected moments, no amsgrad) over one
// parameter group, skipped entirely when the step was judged non-finite:
//   g' = g·(clip ? scale : 1);  p = p − lr·wd·p (decay bit);  m = β1·m + (1−β1)·g';
//   v = β2·v + (1−β2)·g'²;  p = p − lr·(m / c1) / (√(v / c2) + ε)
// with c1 = 1 − β1^t, c2 = 1 − β2^t for the 1-based step t, which the host writes into the
// control words with the learning rate before each submit (so the dispatch is built once).
// The state buffer holds m in its first `items` entries and v in the next `items`.
// Bindings: 0 uniform {items, gx, clip, beta1, beta2, eps, wd}; 1 grad (read); 2 param
// (read-write); 3 state (read-write, 2·items); each vec4s (`main`) or floats (`scalar`),
// aliased; 4 decay mask (read, u32 words, one bit per element as in sgd_update); 5 control
// (read, u32[4]: lr, step, c1, c2); 6 status (read, u32[8]).
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32, clip: u32, beta1: f32, beta2: f32, eps: f32, wd: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> w4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> s4: array<vec4f>;
@group(0) @binding(1) var<storage, read> g1: array<f32>;
@group(0) @binding(2) var<storage, read_write> w1: array<f32>;
@group(0) @binding(3) var<storage, read_write> s1: array<f32>;
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
  let c1 = bitcast<f32>(control[2]);
  let c2 = bitcast<f32>(control[3]);
  let first = 4u * e;
  let bits = (decay[first >> 5u] >> (first & 31u)) & 0xfu;
  let d = vec4<bool>((bits & 1u) != 0u, (bits & 2u) != 0u, (bits & 4u) != 0u, (bits & 8u) != 0u);
  let g = g4[e] * grad_scale();
  let w = w4[e] - select(vec4f(0.0), (lr * p.wd) * w4[e], d);
  let m = p.beta1 * s4[e] + (1.0 - p.beta1) * g;
  let v = p.beta2 * s4[e + p.items] + (1.0 - p.beta2) * (g * g);
  s4[e] = m;
  s4[e + p.items] = v;
  w4[e] = w - lr * (m / c1) / (sqrt(v / c2) + p.eps);
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e >= p.items || status[3] == 0u) { return; }
  let lr = bitcast<f32>(control[0]);
  let c1 = bitcast<f32>(control[2]);
  let c2 = bitcast<f32>(control[3]);
  let d = ((decay[e >> 5u] >> (e & 31u)) & 1u) != 0u;
  let g = g1[e] * grad_scale();
  let w = w1[e] - select(0.0, (lr * p.wd) * w1[e], d);
  let m = p.beta1 * s1[e] + (1.0 - p.beta1) * g;
  let v = p.beta2 * s1[e + p.items] + (1.0 - p.beta2) * (g * g);
  s1[e] = m;
  s1[e + p.items] = v;
  w1[e] = w - lr * (m / c1) / (sqrt(v / c2) + p.eps);
}
