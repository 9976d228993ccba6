// Row-wise L2 normalisation backward, last pass, in place on the gradient g:
//   g ← c0·g − c1·x   with (c0, c1) per row from l2norm_rows `backward`, i.e.
//   divide:      g ← (g − (g·x̂)x̂)/|x|   (dL/dx of y = x/|x|, given dL/dy = g)
//   projection:  g ← g − (g·x̂)x̂          (the cosine head's class weights: 1/|W| already in g)
// Each invocation reads and rewrites only its own item: safe in place.
// Bindings: 0 uniform {items, gx}; 1 x (read); 2 g (read-write), `items` vec4s (`main`,
// D % 4 == 0, DI = D/4) or floats (`scalar`, DI = D), aliased; 3 coef (read, vec2 per row).
// Constants: DI (items per row); ALIGNED when DI is a multiple of 64 (row uniform per workgroup).
// Grid: 2-D, 64 invocations per workgroup, one item each, e = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32 }
override DI: u32 = 1u;
override ALIGNED: bool = false;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> g4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> g1: array<f32>;
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
  let c = coef[row(base, e)];
  g4[e] = c.x * g4[e] - c.y * x4[e];
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let base = (wid.x + wid.y * p.gx) * 64u;
  let e = base + lid.x;
  if (e >= p.items) { return; }
  let c = coef[row(base, e)];
  g1[e] = c.x * g1[e] - c.y * x1[e];
}
