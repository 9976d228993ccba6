// Global average pooling NCHW → NC: y[r] = Σ_i x[r·HW + i] / HW for each of R = N·C planes
// (the [N, C] output is already the flattened matrix a linear layer reads).
// Bindings: 0 uniform {R, HW, gx, inv_hw}; 1 x (read, R·HW); 2 y (write, R).
// Grid: 2-D, 64 invocations per workgroup, one plane each (summed in order: deterministic);
// r = (wid.x + wid.y·gx)·64 + lid.
struct Params { R: u32, HW: u32, gx: u32, inv_hw: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = (wid.x + wid.y * p.gx) * 64u + lid.x;
  if (r >= p.R) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.HW; i++) { s += x[r * p.HW + i]; }
  y[r] = s * p.inv_hw;
}
