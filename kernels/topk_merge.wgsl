// Running top-K per probe over one tile of scores (MegaFace-style identification).
// Math: for each probe p, top[p] keeps the K largest scores seen so far, descending, with
//   the distractor index of each; rows arrive in increasing distractor index, so a later
//   equal score never displaces an earlier one (ties go to the lower index, as in the
//   CPU reference's stable order). No atomics: each invocation owns one probe's list.
// Bindings: 0 uniform {probes P, rows R, base (distractor index of row 0), k K, lanes_x,
//   stride (≥ P: elements between score rows)}; 1 scores [R × stride] f32 (read; row r
//   holds distractor r's score against every probe);
//   2 top_val [P × K] f32 (read_write, descending; −inf when empty);
//   3 top_idx [P × K] u32 (read_write; 0xffffffff when empty).
// Grid: one invocation per probe, workgroups of 64 on (x, y) with x·64 = lanes_x, so more
//   than 65535 workgroups fit the per-dimension limit. Lanes of a workgroup read adjacent
//   scores of one row, which keeps loads contiguous on CPU adapters.
struct Params { probes: u32, rows: u32, base: u32, k: u32, lanes_x: u32, stride: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> top_val: array<f32>;
@group(0) @binding(3) var<storage, read_write> top_idx: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let p = g.y * u.lanes_x + g.x;
  if (p >= u.probes) { return; }
  let row = p * u.k;
  let last = row + u.k - 1u;
  var kth = top_val[last];
  for (var r = 0u; r < u.rows; r++) {
    let s = scores[r * u.stride + p];
    if (s > kth) {
      // Insertion: shift the smaller entries down one place; equal ones stay ahead.
      var j = last;
      while (j > row && top_val[j - 1u] < s) {
        top_val[j] = top_val[j - 1u];
        top_idx[j] = top_idx[j - 1u];
        j--;
      }
      top_val[j] = s;
      top_idx[j] = u.base + r;
      kth = top_val[last];
    }
  }
}
