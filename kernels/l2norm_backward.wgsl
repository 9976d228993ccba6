// Row-wise L2 normalisation backward, in place on the gradient g (R rows of D values):
//   divide = 1:  g ← (g − (g·x̂)x̂) / |x|   (dL/dx of y = x/|x|, given dL/dy = g)
//   divide = 0:  g ← g − (g·x̂)x̂           (the projection alone: the cosine head's class
//                                           weights, whose 1/|W| is already folded into g)
// with x̂ = x/|x|; under the guard (|x| ≤ eps) y = x/eps is linear: g ← g/eps (divide) or g.
// Each invocation rewrites only elements it read itself, after the row's dot product is
// complete (barrier), so the update in place is safe.
// Bindings: 0 uniform {R, D (items per row: D/4 for `main`, D for `scalar`), gx, eps,
// divide}; 1 x (read, R·D); 2 norm (read, R: |x| from the forward); 3 g (read-write, R·D).
// `main` reads x and g as vec4 (D % 4 == 0), `scalar` as f32; entry points alias 1 and 3.
// Grid: one workgroup of 64 invocations per row, r = wid.x + wid.y·gx; fixed-order tree sums.
struct Params { R: u32, D: u32, gx: u32, eps: f32, divide: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> g4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> g1: array<f32>;
@group(0) @binding(2) var<storage, read> norm: array<f32>;

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

/** (coefficient of g, coefficient of x) in the new g = a·g − b·x, from the row dot g·x. */
fn coefficients(n: f32, gx: f32) -> vec2f {
  if (n <= p.eps) {
    return vec2f(select(1.0, 1.0 / p.eps, p.divide != 0u), 0.0);
  }
  let a = select(1.0, 1.0 / n, p.divide != 0u);
  // (g·x̂)·x̂ = (g·x)·x / |x|²
  return vec2f(a, a * gx / (n * n));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wid.x + wid.y * p.gx;
  if (r >= p.R) { return; }
  let base = r * p.D;
  var s = vec4f(0.0);
  for (var d = lid.x; d < p.D; d += 64u) { s += g4[base + d] * x4[base + d]; }
  let k = coefficients(norm[r], reduce_sum(s.x + s.y + s.z + s.w, lid.x));
  for (var d = lid.x; d < p.D; d += 64u) { g4[base + d] = k.x * g4[base + d] - k.y * x4[base + d]; }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wid.x + wid.y * p.gx;
  if (r >= p.R) { return; }
  let base = r * p.D;
  var s = 0.0;
  for (var d = lid.x; d < p.D; d += 64u) { s += g1[base + d] * x1[base + d]; }
  let k = coefficients(norm[r], reduce_sum(s, lid.x));
  for (var d = lid.x; d < p.D; d += 64u) { g1[base + d] = k.x * g1[base + d] - k.y * x1[base + d]; }
}
