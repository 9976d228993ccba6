// Row-wise dot products in pieces, for the L2 normalisation passes: for R rows of Di items,
// invocation t = (row r, piece k) writes partial[r·P + k] = Σ over the piece's ≤ 8 consecutive
// items of a·b (a = b = x for the norms, a = g and b = x for the backward's g·x). P = ceil(Di/8)
// pieces per row. No workgroup barriers (costly on llvmpipe); l2norm_rows adds a row's
// pieces in order, so the result is deterministic.
// Bindings: 0 uniform {R, gx}; 1 a (read); 2 b (read), `main` vec4 (D % 4 == 0, Di = D/4) or
// `scalar` f32 (Di = D), aliased; 3 partial (write, R·P).
// Constants: DI (items per row), P (pieces per row): divisions by them compile to shifts/multiplies.
// Grid: 2-D, 64 invocations per workgroup, t = (wid.x + wid.y·gx)·64 + lid, r = t / P, k = t % P.
struct Params { R: u32, gx: u32 }
override DI: u32 = 1u;
override P: u32 = 1u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(1) var<storage, read> a1: array<f32>;
@group(0) @binding(2) var<storage, read> b1: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = (wid.x + wid.y * p.gx) * 64u + lid.x;
  let r = t / P;
  if (r >= p.R) { return; }
  let k = t - r * P;
  let first = r * DI + k * 8u;
  let end = r * DI + min(DI, k * 8u + 8u);
  var s = vec4f(0.0);
  for (var i = first; i < end; i++) { s += a4[i] * b4[i]; }
  partial[t] = s.x + s.y + s.z + s.w;
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = (wid.x + wid.y * p.gx) * 64u + lid.x;
  let r = t / P;
  if (r >= p.R) { return; }
  let k = t - r * P;
  let first = r * DI + k * 8u;
  let end = r * DI + min(DI, k * 8u + 8u);
  var s = 0.0;
  for (var i = first; i < end; i++) { s += a1[i] * b1[i]; }
  partial[t] = s;
}
