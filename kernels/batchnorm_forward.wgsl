// Batch normalisation, training mode, one workgroup per channel c over its N·HW values:
//   mean = Σx/m, var = Σ(x − mean)²/m (biased, two passes for accuracy), invstd = 1/sqrt(var + eps)
//   y = (x − mean)·invstd·γ + β (γ = 1, β = 0 when affine is 0)
//   running_mean = (1 − momentum)·running_mean + momentum·mean
//   running_var  = (1 − momentum)·running_var  + momentum·var·m/(m − 1)   (PyTorch semantics)
// with m = N·HW. Reductions are fixed-order trees in workgroup memory: no atomics, same bytes
// every run.
// Bindings: 0 uniform Params; 1 x (read, NCHW); 2 y (write, NCHW); 3 gamma, 4 beta (read, C);
// 5 mean, 6 invstd (write, C: saved for the backward); 7 running_mean, 8 running_var
// (read-write, C). `main` reads x and y as vec4 (HW % 4 == 0, hwi = HW/4), `scalar` as f32
// (hwi = HW); the entry points alias bindings 1–2.
// Grid: one workgroup of WG invocations per channel, c = wid.x + wid.y·gx; each invocation
// walks the channel's items n·hwi + i in steps of WG (dn = WG / hwi, di = WG % hwi).
struct Params {
  N: u32, C: u32, hwi: u32, dn: u32,
  di: u32, gx: u32, eps: f32, momentum: f32,
  inv_count: f32, unbiased: f32, affine: u32,
}
override WG: u32 = 256u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> invstd_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> running_var: array<f32>;

var<workgroup> red: array<f32, 256>;

fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

struct Cursor { n: u32, i: u32 }
fn first(lid: u32) -> Cursor { return Cursor(lid / p.hwi, lid % p.hwi); }
fn next(k: Cursor) -> Cursor {
  var r = Cursor(k.n + p.dn, k.i + p.di);
  if (r.i >= p.hwi) { r.i -= p.hwi; r.n += 1u; }
  return r;
}
fn at(k: Cursor, c: u32) -> u32 { return (k.n * p.C + c) * p.hwi + k.i; }

/** Saves the statistics and updates the running averages; returns (mean, invstd). */
fn finish(c: u32, lid: u32, mean: f32, sq: f32) -> vec2f {
  let variance = sq * p.inv_count;
  let invstd = 1.0 / sqrt(variance + p.eps);
  if (lid == 0u) {
    mean_out[c] = mean;
    invstd_out[c] = invstd;
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * variance * p.unbiased;
  }
  return vec2f(mean, invstd);
}

fn gamma_beta(c: u32) -> vec2f {
  if (p.affine != 0u) { return vec2f(gamma[c], beta[c]); }
  return vec2f(1.0, 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  var s = vec4f(0.0);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) { s += x4[at(k, c)]; }
  let mean = reduce_sum(s.x + s.y + s.z + s.w, lid.x) * p.inv_count;
  var q = vec4f(0.0);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let d = x4[at(k, c)] - mean;
    q += d * d;
  }
  let st = finish(c, lid.x, mean, reduce_sum(q.x + q.y + q.z + q.w, lid.x));
  let gb = gamma_beta(c);
  let scale = st.y * gb.x;
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    y4[a] = (x4[a] - st.x) * scale + gb.y;
  }
}

@compute @workgroup_size(WG)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  var s = 0.0;
  for (var k = first(lid.x); k.n < p.N; k = next(k)) { s += x1[at(k, c)]; }
  let mean = reduce_sum(s, lid.x) * p.inv_count;
  var q = 0.0;
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let d = x1[at(k, c)] - mean;
    q += d * d;
  }
  let st = finish(c, lid.x, mean, reduce_sum(q, lid.x));
  let gb = gamma_beta(c);
  let scale = st.y * gb.x;
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    y1[a] = (x1[a] - st.x) * scale + gb.y;
  }
}
