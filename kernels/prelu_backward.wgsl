// PReLU backward, pass 1 of 2: for R = 8 consecutive items of channel c per invocation,
//   dx = dy where x > 0, a_c·dy otherwise
// and the invocation's share of the slope gradient Σ over x ≤ 0 of dy·x, written as one
// partial for channel_sum to add up in order (no barriers, no atomics).
// Bindings: 0 uniform {N, blocks}; 1 dy (read); 2 x (read); 3 slope (read, C);
// 4 dx (write); 5 partial (write, one f32 per invocation: partial[(c·blocks + b)·64 + lid]).
// dy, x and dx are NCHW, vec4 for `main` (HW % 4 == 0, hwi = HW/4), f32 for `scalar`, aliased.
// Grid: (blocks, C) workgroups of 64, blocks = ceil(N·hwi / 512); item k = (b·64 + lid)·8 + r
// is plane n = k / hwi, offset i = k % hwi, address (n·C + c)·hwi + i.
struct Params { N: u32, blocks: u32 }
//! include plane_blocks
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx1: array<f32>;
@group(0) @binding(3) var<storage, read> slope: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = slope[wid.y];
  var s = vec4f(0.0);
  for (var r = 0u; r < R; r++) {
    let i = address(wid.x, wid.y, lid.x, r);
    if (i != 0xffffffffu) {
      let v = x4[i];
      let g = dy4[i];
      let pos = v > vec4f(0.0);
      dx4[i] = select(a * g, g, pos);
      s += select(g * v, vec4f(0.0), pos);
    }
  }
  partial[(wid.y * p.blocks + wid.x) * 64u + lid.x] = s.x + s.y + s.z + s.w;
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let a = slope[wid.y];
  var s = 0.0;
  for (var r = 0u; r < R; r++) {
    let i = address(wid.x, wid.y, lid.x, r);
    if (i != 0xffffffffu) {
      let v = x1[i];
      let g = dy1[i];
      dx1[i] = select(a * g, g, v > 0.0);
      s += select(g * v, 0.0, v > 0.0);
    }
  }
  partial[(wid.y * p.blocks + wid.x) * 64u + lid.x] = s;
}
