// One optimizer update pass over one parameter group, skipped entirely when the step was
// judged non-finite; g' = g·(clip ? scale : 1), with scale from gradnorm_final's status.
//   sgd (torch.optim.SGD, dampening 0, no Nesterov; decay is L2):
//     g'' = g' + (decay bit ? wd·p : 0);  s = β1·s + g'';  p = p − lr·s
//   adamw (torch.optim.AdamW, amsgrad off; decay is decoupled):
//     p = p − lr·wd·p (decay bit);  m = β1·m + (1−β1)·g';  v = β2·v + (1−β2)·g'²;
//     p = p − lr·(m / c1) / (√(v / c2) + ε)
// lr, c1 = 1 − β1^t and c2 = 1 − β2^t (t the 1-based step) come from the control words the
// host writes before each submit, so the dispatch is built once. Decay is one bit per
// element (bit e & 31 of word e >> 5): BN, PReLU and biases get none. The state buffer holds
// SGD's momentum, or AdamW's m in its first `items` entries and v in the next `items`.
// Entries: sgd, adamw (vec4 items) and sgd_scalar, adamw_scalar (float items).
// Bindings: 0 uniform {items, gx, clip, beta1, beta2, eps, wd}; 1 grad (read); 2 param
// (read-write); 3 state (read-write), aliased as vec4s and floats; 4 decay mask (read, u32
// words); 5 control (read, u32[4]: lr, step, c1, c2); 6 status (read, u32[8]).
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

/** Whether item e is updated this step (in range, and the step was judged finite). */
fn live(e: u32) -> bool {
  return e < p.items && status[3] != 0u;
}

fn grad_scale() -> f32 {
  return select(1.0, bitcast<f32>(status[2]), p.clip != 0u);
}

fn control_f32(i: u32) -> f32 {
  return bitcast<f32>(control[i]);
}

fn decay4(e: u32) -> vec4<bool> {
  let first = 4u * e;
  let bits = (decay[first >> 5u] >> (first & 31u)) & 0xfu;
  return vec4<bool>((bits & 1u) != 0u, (bits & 2u) != 0u, (bits & 4u) != 0u, (bits & 8u) != 0u);
}

fn decay1(e: u32) -> bool {
  return ((decay[e >> 5u] >> (e & 31u)) & 1u) != 0u;
}

@compute @workgroup_size(64)
fn sgd(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (!live(e)) { return; }
  let w = w4[e];
  let g = g4[e] * grad_scale() + select(vec4f(0.0), p.wd * w, decay4(e));
  let s = p.beta1 * s4[e] + g;
  s4[e] = s;
  w4[e] = w - control_f32(0u) * s;
}

@compute @workgroup_size(64)
fn sgd_scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (!live(e)) { return; }
  let w = w1[e];
  let g = g1[e] * grad_scale() + select(0.0, p.wd * w, decay1(e));
  let s = p.beta1 * s1[e] + g;
  s1[e] = s;
  w1[e] = w - control_f32(0u) * s;
}

@compute @workgroup_size(64)
fn adamw(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (!live(e)) { return; }
  let lr = control_f32(0u);
  let g = g4[e] * grad_scale();
  let w = w4[e] - select(vec4f(0.0), (lr * p.wd) * w4[e], decay4(e));
  let m = p.beta1 * s4[e] + (1.0 - p.beta1) * g;
  let v = p.beta2 * s4[e + p.items] + (1.0 - p.beta2) * (g * g);
  s4[e] = m;
  s4[e + p.items] = v;
  w4[e] = w - lr * (m / control_f32(2u)) / (sqrt(v / control_f32(3u)) + p.eps);
}

@compute @workgroup_size(64)
fn adamw_scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (!live(e)) { return; }
  let lr = control_f32(0u);
  let g = g1[e] * grad_scale();
  let w = w1[e] - select(0.0, (lr * p.wd) * w1[e], decay1(e));
  let m = p.beta1 * s1[e] + (1.0 - p.beta1) * g;
  let v = p.beta2 * s1[e + p.items] + (1.0 - p.beta2) * (g * g);
  s1[e] = m;
  s1[e + p.items] = v;
  w1[e] = w - lr * (m / control_f32(2u)) / (sqrt(v / control_f32(3u)) + p.eps);
}
