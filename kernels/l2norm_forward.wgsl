// Row-wise L2 normalisation, last pass: y = x·coef[r].x with coef[r].x = 1/max(|x_r|, eps)
// from l2norm_rows (norms computed by l2norm_partial + l2norm_rows `norms`).
// Bindings: 0 uniform {items, gx}; 1 x (read); 2 y (write), `items` vec4s (`main`,
// D % 4 == 0, DI = D/4) or floats (`scalar`, DI = D), aliased; 3 coef (read, vec2 per row).
// Constants: DI (items per row); ALIGNED when DI is a multiple of 64 (a workgroup's items then
// share one row, computed from the workgroup id: one broadcast load instead of a gather).
// Grid: 2-D, 64 invocations per workgroup, one item each, e = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32 }
override DI: u32 = 1u;
override ALIGNED: bool = false;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> y1: array<f32>;
@group(0) @binding(3) var<storage, read> coef: array<vec2f>;

fn row(base: u32, e: u32) -> u32 {
  if (ALIGNED) { return base / DI; }
  return e / DI;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let base = (wid.x + wid.y * p.gx) * 64u;
  let e = base + lid.x;
  if (e >= p.items) { return; }
  y4[e] = x4[e] * coef[row(base, e)].x;
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let base = (wid.x + wid.y * p.gx) * 64u;
  let e = base + lid.x;
  if (e >= p.items) { return; }
  y1[e] = x1[e] * coef[row(base, e)].x;
}
