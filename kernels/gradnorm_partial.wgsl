// Gradient norm, first pass: sums of squares of one parameter group's gradient in pieces of
// 32 consecutive items (vec4s for `main`, floats for `scalar`), one piece per invocation,
// written to partial[(slot_base + piece)·2 + (clip ? 0 : 1)] (the other column 0) so the final
// pass can tell the clipped groups' norm from the rest. No atomics and no workgroup barriers
// (slow on llvmpipe); gradnorm_final adds the pieces in order: same bytes every run. A
// non-finite gradient makes its piece non-finite.
// Bindings: 0 uniform {items, slot_base, clip, gx}; 1 grad (read, `items` vec4s or floats);
// 2 partial (read-write, 2 floats per slot). Entry points alias binding 1.
// Grid: 2-D, 64 invocations per workgroup, piece = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, slot_base: u32, clip: u32, gx: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g4: array<vec4f>;
@group(0) @binding(1) var<storage, read> g1: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;

const PIECE = 32u;

fn store(piece: u32, s: f32) {
  let o = (p.slot_base + piece) * 2u;
  partial[o] = select(0.0, s, p.clip != 0u);
  partial[o + 1u] = select(s, 0.0, p.clip != 0u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let piece = (wid.x + wid.y * p.gx) * 64u + lid.x;
  let first = piece * PIECE;
  if (first >= p.items) { return; }
  var s = vec4f(0.0);
  for (var e = first; e < min(p.items, first + PIECE); e++) { let v = g4[e]; s += v * v; }
  store(piece, s.x + s.y + s.z + s.w);
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let piece = (wid.x + wid.y * p.gx) * 64u + lid.x;
  let first = piece * PIECE;
  if (first >= p.items) { return; }
  var s = 0.0;
  for (var e = first; e < min(p.items, first + PIECE); e++) { let v = g1[e]; s += v * v; }
  store(piece, s);
}
