// Gradient norm, first pass: the sum of squares of one parameter group's gradient, one
// partial per block of 1024 items (vec4s for `main`, floats for `scalar`), written to
// partial[(slot_base + block)·2 + (clip ? 0 : 1)] (the other column 0) so the final pass can
// tell the clipped groups' norm from the rest. Fixed-order tree in workgroup memory: no
// atomics, same bytes every run. A non-finite gradient makes its partial non-finite.
// Bindings: 0 uniform {items, slot_base, clip, gx}; 1 grad (read, `items` vec4s or floats);
// 2 partial (read-write, 2 floats per slot). Entry points alias binding 1.
// Grid: 2-D, one workgroup of 256 invocations per block, block = wid.x + wid.y·gx; item
// block·1024 + r·256 + lid for r < 4.
struct Params { items: u32, slot_base: u32, clip: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g4: array<vec4f>;
@group(0) @binding(1) var<storage, read> g1: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

var<workgroup> red: array<f32, 256>;

fn finish(block: u32, lid: u32, v: f32) {
  red[lid] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let o = (p.slot_base + block) * 2u;
    partial[o] = select(0.0, red[0], p.clip != 0u);
    partial[o + 1u] = select(red[0], 0.0, p.clip != 0u);
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let block = wid.x + wid.y * p.gx;
  var s = vec4f(0.0);
  for (var r = 0u; r < 4u; r++) {
    let e = block * 1024u + r * 256u + lid.x;
    if (e < p.items) { let v = g4[e]; s += v * v; }
  }
  finish(block, lid.x, s.x + s.y + s.z + s.w);
}

@compute @workgroup_size(256)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let block = wid.x + wid.y * p.gx;
  var s = 0.0;
  for (var r = 0u; r < 4u; r++) {
    let e = block * 1024u + r * 256u + lid.x;
    if (e < p.items) { let v = g1[e]; s += v * v; }
  }
  finish(block, lid.x, s);
}
