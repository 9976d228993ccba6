// Bias add in place after a matmul: y[n, o] += b[o] for an N×O row-major matrix.
// Bindings: 0 uniform {N, O}; 1 b (read, O); 2 y (read-write, N·O).
// Grid: (ceil(O/64), N) workgroups of 64 invocations: column o = wid.x·64 + lid, row
// n = wid.y (no index division).
struct Params { N: u32, O: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = wid.x * 64u + lid.x;
  if (o >= p.O || wid.y >= p.N) { return; }
  let i = wid.y * p.O + o;
  y[i] = y[i] + b[o];
}
