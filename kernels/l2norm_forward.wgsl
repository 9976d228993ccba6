// Row-wise L2 normalisation of R rows of D values: norm[r] = |x_r| (unguarded, for the
// embeddings stream's `norm` column and the backward), y_r = x_r / max(|x_r|, eps).
// write_y = 0 computes the norms only (the cosine head needs |W| but never Ŵ itself).
// Bindings: 0 uniform {R, D (items per row: D/4 for `main`, D for `scalar`), gx, eps,
// write_y}; 1 x (read, R·D); 2 y (write, R·D; unused when write_y = 0); 3 norm (write, R).
// `main` reads x and y as vec4 (D % 4 == 0), `scalar` as f32; entry points alias 1–2.
// Grid: one workgroup of 64 invocations per row, r = wid.x + wid.y·gx; the sum of squares
// is a fixed-order tree (deterministic).
struct Params { R: u32, D: u32, gx: u32, eps: f32, write_y: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
@group(0) @binding(3) var<storage, read_write> norm: array<f32>;

var<workgroup> red: array<f32, 64>;

fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

/** Stores |x| and returns 1/max(|x|, eps). */
fn finish(r: u32, lid: u32, sq: f32) -> f32 {
  let n = sqrt(sq);
  if (lid == 0u) { norm[r] = n; }
  return 1.0 / max(n, p.eps);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wid.x + wid.y * p.gx;
  if (r >= p.R) { return; }
  let base = r * p.D;
  var s = vec4f(0.0);
  for (var d = lid.x; d < p.D; d += 64u) { let v = x4[base + d]; s += v * v; }
  let inv = finish(r, lid.x, reduce_sum(s.x + s.y + s.z + s.w, lid.x));
  if (p.write_y != 0u) {
    for (var d = lid.x; d < p.D; d += 64u) { y4[base + d] = x4[base + d] * inv; }
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wid.x + wid.y * p.gx;
  if (r >= p.R) { return; }
  let base = r * p.D;
  var s = 0.0;
  for (var d = lid.x; d < p.D; d += 64u) { let v = x1[base + d]; s += v * v; }
  let inv = finish(r, lid.x, reduce_sum(s, lid.x));
  if (p.write_y != 0u) {
    for (var d = lid.x; d < p.D; d += 64u) { y1[base + d] = x1[base + d] * inv; }
  }
}
