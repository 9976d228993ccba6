// The heads' loss and its gradient dL/dcos, over a batch of N rows and K classes that may be
// split into shards (each shard a separate N×Ks cos matrix, classes k_base..k_base+Ks−1).
// Three passes, no atomics, no workgroup barriers (slow on llvmpipe), every reduction in a
// fixed order (same bytes every run):
//   tiles: per (row i, chunk of 32 columns), one invocation: when `normalised`, cos =
//          raw/max(|W_j|, eps) in place (the matmul wrote x̂·W_j); then the chunk's partials:
//          online-softmax (max f, Σ exp(f − max)), Σ (cos − δ)² (P2SGrad), Σ non-target cos,
//          and the target's cos and f.
//   rows:  per row, the partials of all T chunks combined in chunk order: lse, the row loss
//          (lse − f_y, or ½Σ(cos − δ)² for P2SGrad), cos_y, Σ non-target cos, has-target.
//   grad:  g_ij = (P_ij − δ_ij)·f'(cos_ij)/N, P = exp(f − lse) (softmax heads), or
//          g_ij = (cos_ij − δ_ij)/N (P2SGrad); divided by max(|W_j|, eps) when `normalised` so
//          that g·W = (dL/dcos)·Ŵ and gᵀX̂ = the class-weight term before its projection.
// f on the target: normface s·c; cosface s·(c − m); arcface s·cos(θ + m) while cos θ > cos(π − m),
// else s·(c − m·sin m) (insightface, easy_margin off); sphereface s·(λc + ψ)/(1 + λ) with
// ψ = (−1)^k T_m(c) − 2k, k = floor(mθ/π), dψ/dc = (−1)^k·m·U_{m−1}(c) (Chebyshev polynomials:
// no division by sin θ); softmax (un-normalised logits) f = c. Non-targets: f = s·c (c for
// softmax). ArcFace f' = s·(cos m + c·sin m / max(sin θ, 1e-6)), or s when straight-through.
// A row whose label is outside this batch's classes (≥ K) has no target: no loss, zero gradient.
// Bindings (each entry point uses its own, numbered from 1 in the order the op passes them):
//   tiles: 1 labels (u32, N); 2 norm_w (Ks, the shard's |W_j|); 3 cos (read-write, N·Ks);
//          4 partial (write, N·T·8, T = chunks over all shards)
//   rows:  1 partial (read, N·T·8); 2 rowstat (write, N·8: lse, loss, cos_y, Σ non-target, has)
//   grad:  1 labels; 2 norm_w; 3 cos (read); 4 rowstat (read); 5 g (write, N·Ks)
// Grid: tiles and grad (ceil(chunks/64), N) workgroups of 64 invocations, chunks = ceil(Ks/32),
// invocation q = wid.x·64 + lid taking columns 32q .. 32q + 31 of row wid.y; rows (ceil(N/64))
// workgroups of 64, one row per invocation.
struct Params {
  N: u32, K: u32, Ks: u32, k_base: u32,
  tile_base: u32, T: u32, inv_n: f32, eps: f32,
  s: f32, m: f32, cos_m: f32, sin_m: f32,
  th: f32, mm: f32, lambda: f32, straight: u32,
  normalised: u32, m_int: u32,
}
const P2SGRAD = 0u;
const NORMFACE = 1u;
const COSFACE = 2u;
const ARCFACE = 3u;
const SPHEREFACE = 4u;
const SOFTMAX = 5u;
override HEAD: u32 = 0u;

const NEG = -3.0e38; // finite "minus infinity": exp(NEG − NEG) stays 1, not NaN
const ARC_SIN_EPS = 1e-6;
const PI = 3.14159265358979;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> norm_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> cos_rw: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial_out: array<f32>;
@group(0) @binding(1) var<storage, read> partial_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> rowstat_out: array<f32>;
@group(0) @binding(3) var<storage, read> cos_in: array<f32>;
@group(0) @binding(4) var<storage, read> rowstat_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> g_out: array<f32>;

/** SphereFace: (ψ(c), dψ/dc) from Chebyshev recurrences T_m and U_{m−1}. */
fn sphere_psi(c: f32) -> vec2f {
  let m = p.m_int;
  let k = min(m - 1u, u32(floor(f32(m) * acos(c) / PI)));
  var t0 = 1.0;
  var t1 = c;
  var u0 = 1.0;
  var u1 = 2.0 * c;
  for (var n = 1u; n < m; n++) {
    let t2 = 2.0 * c * t1 - t0;
    t0 = t1;
    t1 = t2;
    if (n + 1u < m) {
      let u2 = 2.0 * c * u1 - u0;
      u0 = u1;
      u1 = u2;
    }
  }
  let um1 = select(u0, u1, m >= 2u); // U_{m−1}(c); t1 is T_m(c)
  let sgn = select(1.0, -1.0, (k & 1u) == 1u);
  return vec2f(sgn * t1 - 2.0 * f32(k), sgn * f32(m) * um1);
}

fn logit(c: f32, is_target: bool) -> f32 {
  if (HEAD == SOFTMAX || HEAD == P2SGRAD) { return c; }
  if (!is_target) { return p.s * c; }
  if (HEAD == COSFACE) { return p.s * (c - p.m); }
  let cc = clamp(c, -1.0, 1.0);
  if (HEAD == ARCFACE) {
    if (cc > p.th) { return p.s * (cc * p.cos_m - sqrt(max(0.0, 1.0 - cc * cc)) * p.sin_m); }
    return p.s * (cc - p.mm);
  }
  if (HEAD == SPHEREFACE) {
    return p.s * (p.lambda * cc + sphere_psi(cc).x) / (1.0 + p.lambda);
  }
  return p.s * c; // NORMFACE
}

fn slope(c: f32, is_target: bool) -> f32 {
  if (HEAD == SOFTMAX || HEAD == P2SGRAD) { return 1.0; }
  if (!is_target) { return p.s; }
  let cc = clamp(c, -1.0, 1.0);
  if (HEAD == ARCFACE) {
    if (p.straight != 0u || cc <= p.th) { return p.s; }
    return p.s * (p.cos_m + cc * p.sin_m / max(sqrt(max(0.0, 1.0 - cc * cc)), ARC_SIN_EPS));
  }
  if (HEAD == SPHEREFACE) {
    return p.s * (p.lambda + sphere_psi(cc).y) / (1.0 + p.lambda);
  }
  return p.s; // NORMFACE, COSFACE
}

/** Online-softmax merge of (max, Σ exp(f − max)) pairs. */
fn merge(a: vec2f, b: vec2f) -> vec2f {
  let m = max(a.x, b.x);
  return vec2f(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

const CW = 32u; // columns per invocation

@compute @workgroup_size(64)
fn tiles(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = wid.y;
  let q = wid.x * 64u + lid.x;
  let j0 = q * CW;
  if (j0 >= p.Ks) { return; }
  let y = labels[i];
  var ms = vec2f(NEG, 0.0); // online softmax: (max f, Σ exp(f − max))
  var sq = 0.0;
  var nontarget = 0.0;
  var t = vec3f(0.0); // target (cos, f, 1)
  for (var j = j0; j < min(p.Ks, j0 + CW); j++) {
    var c = cos_rw[i * p.Ks + j];
    if (p.normalised != 0u) {
      c = c / max(norm_w[j], p.eps);
      cos_rw[i * p.Ks + j] = c;
    }
    let is_target = p.k_base + j == y;
    let f = logit(c, is_target);
    if (HEAD == P2SGRAD) {
      let d = c - select(0.0, 1.0, is_target);
      sq += d * d;
    } else {
      ms = merge(ms, vec2f(f, 1.0));
    }
    if (is_target) { t = vec3f(c, f, 1.0); } else { nontarget += c; }
  }
  let o = (i * p.T + p.tile_base + q) * 8u;
  partial_out[o] = ms.x;
  partial_out[o + 1u] = ms.y;
  partial_out[o + 2u] = sq;
  partial_out[o + 3u] = nontarget;
  partial_out[o + 4u] = t.x;
  partial_out[o + 5u] = t.y;
  partial_out[o + 6u] = t.z;
  partial_out[o + 7u] = 0.0;
}

@compute @workgroup_size(64)
fn rows(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.N) { return; }
  var ms = vec2f(NEG, 0.0);
  var sq = 0.0;
  var nontarget = 0.0;
  var ct = 0.0;
  var ft = 0.0;
  var has = 0.0;
  for (var t = 0u; t < p.T; t++) {
    let o = (i * p.T + t) * 8u;
    ms = merge(ms, vec2f(partial_in[o], partial_in[o + 1u]));
    sq += partial_in[o + 2u];
    nontarget += partial_in[o + 3u];
    ct += partial_in[o + 4u];
    ft += partial_in[o + 5u];
    has += partial_in[o + 6u];
  }
  let lse = ms.x + log(ms.y);
  var loss = 0.0;
  if (has > 0.0) { loss = select(lse - ft, 0.5 * sq, HEAD == P2SGRAD); }
  let o = i * 8u;
  rowstat_out[o] = lse;
  rowstat_out[o + 1u] = loss;
  rowstat_out[o + 2u] = ct;
  rowstat_out[o + 3u] = nontarget;
  rowstat_out[o + 4u] = has;
  rowstat_out[o + 5u] = 0.0;
  rowstat_out[o + 6u] = 0.0;
  rowstat_out[o + 7u] = 0.0;
}

@compute @workgroup_size(64)
fn grad(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = wid.y;
  let j0 = (wid.x * 64u + lid.x) * CW;
  if (j0 >= p.Ks) { return; }
  let y = labels[i];
  let lse = rowstat_in[i * 8u];
  let has = rowstat_in[i * 8u + 4u] > 0.0;
  for (var j = j0; j < min(p.Ks, j0 + CW); j++) {
    let c = cos_in[i * p.Ks + j];
    let is_target = p.k_base + j == y;
    let delta = select(0.0, 1.0, is_target);
    var g = 0.0;
    if (has) {
      if (HEAD == P2SGRAD) {
        g = (c - delta) * p.inv_n;
      } else {
        g = (exp(logit(c, is_target) - lse) - delta) * slope(c, is_target) * p.inv_n;
      }
    }
    if (p.normalised != 0u) { g = g / max(norm_w[j], p.eps); }
    g_out[i * p.Ks + j] = g;
  }
}
