// Memory-ceiling probe for `deno task bench` (not used in training): moves a chosen number
// of floats in and out the way the layer kernels do, reading x in the device's operand form
// and writing y to a storage buffer, with almost no arithmetic per float. Each of `lanes`
// invocations sums `reads` vec4s of x and writes that sum plus j to `writes` vec4s of y:
//   s_i = Σ_{m < reads} x[i + m·lanes],   y[i + j·lanes] = s_i + j   (j < writes).
// Interleaved by lane so that neighbouring lanes touch neighbouring vec4s, as a layer's do.
// Bindings: 0 uniform {lanes, reads, writes, gx}; 1 x (read, lanes·reads vec4s);
// 2 y (write, lanes·writes vec4s).
// Grid: 2-D, 64 invocations per workgroup; i = (wid.x + wid.y·gx)·64 + lid.
struct Params { lanes: u32, reads: u32, writes: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = (wid.x + wid.y * p.gx) * 64u + lid.x;
  if (i >= p.lanes) { return; }
  var s = vec4f(0.0);
  for (var m = 0u; m < p.reads; m++) { s += x[i + m * p.lanes]; }
  for (var j = 0u; j < p.writes; j++) { y[i + j * p.lanes] = s + f32(j); }
}
