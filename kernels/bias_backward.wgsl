// Bias gradient: db[o] = Σ_n dy[n, o] (column sums of an N×O row-major matrix), summed in row
// order by one invocation per column: deterministic, no atomics; adjacent invocations read
// adjacent addresses.
// Bindings: 0 uniform {N, O, gx}; 1 dy (read, N·O); 2 db (write, O).
// Grid: 2-D, 64 invocations per workgroup, o = (wid.x + wid.y·gx)·64 + lid.
struct Params { N: u32, O: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = (wid.x + wid.y * p.gx) * 64u + lid.x;
  if (o >= p.O) { return; }
  var s = 0.0;
  for (var n = 0u; n < p.N; n++) { s += dy[n * p.O + o]; }
  db[o] = s;
}
