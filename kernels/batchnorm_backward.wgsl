// Batch normalisation backward (training mode), one workgroup per channel c, m = N·HW:
//   dβ = Σ dy,  dγ = Σ dy·x̂  with x̂ = (x − mean)·invstd
//   dx = γ·invstd·(dy − dβ/m − x̂·dγ/m)
// (γ = 1 and no dγ/dβ written when affine is 0). Fixed-order tree reductions, no atomics.
// Bindings: 0 uniform Params; 1 dy (read, NCHW); 2 x (read, NCHW); 3 gamma, 4 mean,
// 5 invstd (read, C); 6 dx (write, NCHW); 7 dgamma, 8 dbeta (write, C). `main` reads
// dy, x, dx as vec4 (HW % 4 == 0, hwi = HW/4), `scalar` as f32; entry points alias 1, 2, 6.
// Grid: one workgroup of WG invocations per channel, c = wid.x + wid.y·gx; each invocation
// walks the channel's items n·hwi + i in steps of WG (dn = WG / hwi, di = WG % hwi).
struct Params { N: u32, C: u32, hwi: u32, dn: u32, di: u32, gx: u32, inv_count: f32, affine: u32 }
override WG: u32 = 256u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx1: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> invstd: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;

var<workgroup> red: array<vec2f, 256>;

fn reduce_sum2(v: vec2f, lid: u32) -> vec2f {
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

/** From (Σdy, Σdy·(x − mean)): writes dγ, dβ; returns (k_dy, k_const, k_x) of dx = k_dy·dy + k_const + k_x·(x − mean). */
fn coefficients(c: u32, lid: u32, sums: vec2f) -> vec3f {
  let r = invstd[c];
  let dbeta_c = sums.x;
  let dgamma_c = sums.y * r;
  var g = 1.0;
  if (p.affine != 0u) {
    g = gamma[c];
    if (lid == 0u) {
      dgamma[c] = dgamma_c;
      dbeta[c] = dbeta_c;
    }
  }
  let k = g * r;
  return vec3f(k, -k * dbeta_c * p.inv_count, -k * r * dgamma_c * p.inv_count);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let mu = mean[c];
  var sdy = vec4f(0.0);
  var sdyx = vec4f(0.0);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    let g = dy4[a];
    sdy += g;
    sdyx += g * (x4[a] - mu);
  }
  let sums = reduce_sum2(vec2f(sdy.x + sdy.y + sdy.z + sdy.w, sdyx.x + sdyx.y + sdyx.z + sdyx.w), lid.x);
  let q = coefficients(c, lid.x, sums);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    dx4[a] = q.x * dy4[a] + q.y + q.z * (x4[a] - mu);
  }
}

@compute @workgroup_size(WG)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let mu = mean[c];
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    let g = dy1[a];
    sdy += g;
    sdyx += g * (x1[a] - mu);
  }
  let q = coefficients(c, lid.x, reduce_sum2(vec2f(sdy, sdyx), lid.x));
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let a = at(k, c);
    dx1[a] = q.x * dy1[a] + q.y + q.z * (x1[a] - mu);
  }
}
