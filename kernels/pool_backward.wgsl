// Global average pooling backward: dx[r·HW + i] = dy[r] / HW for each of R = N·C planes.
// Bindings: 0 uniform {R, HW, gx, inv_hw}; 1 dy (read, R); 2 dx (write, R·HW).
// Grid: 2-D, 64 invocations per workgroup, one plane each; r = (wid.x + wid.y·gx)·64 + lid.
struct Params { R: u32, HW: u32, gx: u32, inv_hw: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = (wid.x + wid.y * p.gx) * 64u + lid.x;
  if (r >= p.R) { return; }
  let g = dy[r] * p.inv_hw;
  for (var i = 0u; i < p.HW; i++) { dx[r * p.HW + i] = g; }
}
