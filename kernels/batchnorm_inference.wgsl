// Batch normalisation, inference mode: y = (x − running_mean)·γ/sqrt(running_var + eps) + β
// (γ = 1, β = 0 when affine is 0), one workgroup per channel.
// Bindings: 0 uniform Params; 1 x (read, NCHW); 2 y (write, NCHW); 3 gamma, 4 beta,
// 5 running_mean, 6 running_var (read, C). `main` reads x and y as vec4 (HW % 4 == 0,
// hwi = HW/4), `scalar` as f32 (hwi = HW); the entry points alias bindings 1–2.
// Grid: one workgroup of WG invocations per channel, c = wid.x + wid.y·gx; each invocation
// walks the channel's items n·hwi + i in steps of WG (dn = WG / hwi, di = WG % hwi).
struct Params { N: u32, C: u32, hwi: u32, dn: u32, di: u32, gx: u32, eps: f32, affine: u32 }
override WG: u32 = 256u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read> running_mean: array<f32>;
@group(0) @binding(6) var<storage, read> running_var: array<f32>;

struct Cursor { n: u32, i: u32 }
fn first(lid: u32) -> Cursor { return Cursor(lid / p.hwi, lid % p.hwi); }
fn next(k: Cursor) -> Cursor {
  var r = Cursor(k.n + p.dn, k.i + p.di);
  if (r.i >= p.hwi) { r.i -= p.hwi; r.n += 1u; }
  return r;
}
fn at(k: Cursor, c: u32) -> u32 { return (k.n * p.C + c) * p.hwi + k.i; }

/** (scale, shift) with y = x·scale + shift. */
fn coefficients(c: u32) -> vec2f {
  var g = 1.0;
  var b = 0.0;
  if (p.affine != 0u) { g = gamma[c]; b = beta[c]; }
  let scale = g / sqrt(running_var[c] + p.eps);
  return vec2f(scale, b - running_mean[c] * scale);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let k2 = coefficients(c);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    y4[a] = x4[a] * k2.x + k2.y;
  }
}

@compute @workgroup_size(WG)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let k2 = coefficients(c);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    y1[a] = x1[a] * k2.x + k2.y;
  }
}
