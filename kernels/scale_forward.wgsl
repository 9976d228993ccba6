// y[i] = a * x[i]  — a smoke-test kernel for the device plumbing.
// Bindings: 0 uniform {n, a}; 1 x (read); 2 y (write). Grid: ceil(n / 64) workgroups.
struct Params { n: u32, a: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { y[g.x] = p.a * x[g.x]; }
}
