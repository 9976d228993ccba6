// Per-row finish of the L2 normalisation passes, one invocation per row adding the row's P
// pieces from l2norm_partial in order (deterministic):
//   `norms`: S = Σ x²: norm[r] = sqrt(S) (unguarded), coef[r] = (1/max(norm, eps), 0)
//   `backward`: S = g·x, with |x| = norm[r] from the forward, the in-place update of
//   l2norm_backward is g ← c0·g − c1·x:
//     |x| > eps: c0 = 1/|x| (divide) or 1 (projection only), c1 = c0·S/|x|²
//     |x| ≤ eps: c0 = 1/eps (divide) or 1, c1 = 0   (y = x/eps is linear under the guard)
// Bindings: `norms`: 0 uniform {R, eps, divide}; 1 partial (read, R·P); 2 norm (write, R);
//           3 coef (write, vec2 per row)
//           `backward`: 0 uniform; 1 partial (read); 2 norm (read, R); 3 coef (write, vec2 per row)
// Constant: P (pieces per row). Grid: ceil(R/64) folded 2-D (gx), 64 invocations, one row each.
struct Params { R: u32, gx: u32, eps: f32, divide: u32 }
override P: u32 = 1u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> norm_out: array<f32>;
@group(0) @binding(2) var<storage, read> norm_in: array<f32>;
@group(0) @binding(3) var<storage, read_write> coef: array<vec2f>;

fn row_sum(r: u32) -> f32 {
  var s = 0.0;
  for (var k = 0u; k < P; k++) { s += partial[r * P + k]; }
  return s;
}

@compute @workgroup_size(64)
fn norms(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = (wid.x + wid.y * p.gx) * 64u + lid.x;
  if (r >= p.R) { return; }
  let n = sqrt(row_sum(r));
  norm_out[r] = n;
  coef[r] = vec2f(1.0 / max(n, p.eps), 0.0);
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = (wid.x + wid.y * p.gx) * 64u + lid.x;
  if (r >= p.R) { return; }
  let n = norm_in[r];
  let divide = p.divide != 0u;
  if (n <= p.eps) {
    coef[r] = vec2f(select(1.0, 1.0 / p.eps, divide), 0.0);
    return;
  }
  let c0 = select(1.0, 1.0 / n, divide);
  coef[r] = vec2f(c0, c0 * row_sum(r) / (n * n));
}
