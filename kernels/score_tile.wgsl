// Scores of a distractor tile against all probes: S[r, p] = Σ_d X[r, d] · Qt[d, p].
// Math: cosine similarity of L2-normalised embeddings (a plain dot product), f32.
// Bindings: 0 uniform {rows R, probes P, dim D, groups_x}; 1 X [R × D] f32 (distractors,
//   row-major); 2 Qt [D × P] f32 (probes transposed once at upload, so adjacent lanes read
//   adjacent probes); 3 S [R × P] f32 (write; the layout topk_merge reads).
// Grid: each invocation computes a 4-row × 4-probe block; workgroups of 64 along probes,
//   (ceil(P / 256), ceil(R / 4)) workgroups, y folded into x beyond 65535 via groups_x.
//   All lanes of a workgroup share the same 4 rows, so X loads are uniform (broadcast) and
//   Qt loads are contiguous: the register-blocked form that runs well on llvmpipe.
struct Params { rows: u32, probes: u32, dim: u32, groups_x: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> qt: array<f32>;
@group(0) @binding(3) var<storage, read_write> s: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lane: u32) {
  let block = wg.y * u.groups_x + wg.x; // linear workgroup index
  let probe_groups = (u.probes + 255u) / 256u;
  let p0 = (block % probe_groups) * 256u + lane * 4u;
  let r0 = (block / probe_groups) * 4u;
  if (r0 >= u.rows || p0 >= u.probes) { return; }
  // Clamp reads at the edges (results there are discarded) so the loop has no branches.
  let pl = min(p0 + 3u, u.probes - 1u);
  let p1 = min(p0 + 1u, pl);
  let p2 = min(p0 + 2u, pl);
  let ra = r0 * u.dim;
  let rb = min(r0 + 1u, u.rows - 1u) * u.dim;
  let rc = min(r0 + 2u, u.rows - 1u) * u.dim;
  let rd = min(r0 + 3u, u.rows - 1u) * u.dim;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var d = 0u; d < u.dim; d++) {
    let q = d * u.probes;
    let b = vec4f(qt[q + p0], qt[q + p1], qt[q + p2], qt[q + pl]);
    a0 += x[ra + d] * b;
    a1 += x[rb + d] * b;
    a2 += x[rc + d] * b;
    a3 += x[rd + d] * b;
  }
  let acc = array<vec4f, 4>(a0, a1, a2, a3);
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + i;
    if (r >= u.rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (p0 + j < u.probes) { s[r * u.probes + p0 + j] = acc[i][j]; }
    }
  }
}
