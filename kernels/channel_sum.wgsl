// Per-channel sum of partial sums: out[c] = Σ_k partial[c·parts + k], added in index order
// by one invocation per channel (deterministic, no atomics). Finishes reductions whose first
// pass wrote one partial per invocation (e.g. the PReLU slope gradient).
// Bindings: 0 uniform {C, parts}; 1 partial (read, C·parts); 2 out (write, C).
// Grid: ceil(C/64) workgroups of 64, one channel per invocation.
struct Params { C: u32, parts: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.parts; k++) { s += partial[c * p.parts + k]; }
  out[c] = s;
}
