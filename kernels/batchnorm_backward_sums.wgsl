// Batch normalisation backward, pass 1 of 3: per-invocation sums over R = 8 consecutive items
// of channel c: (Σ dy, Σ dy·(x − mean_c)), for batchnorm_backward_combine to add up in order.
// No workgroup barriers (costly on llvmpipe); deterministic.
// Bindings: 0 uniform {N, blocks}; 1 dy (read); 2 x (read), NCHW (`main` vec4 when
// HW % 4 == 0, hwi = HW/4, else `scalar`, hwi = HW), aliased; 3 mean (read, C);
// 4 partial (write, vec2 per invocation: partial[(c·blocks + b)·64 + lid]).
// Grid: (blocks, C) workgroups of 64, blocks = ceil(N·hwi / 512); item k = (b·64 + lid)·8 + r
// is plane n = k / hwi, offset i = k % hwi, address (n·C + c)·hwi + i.
struct Params { N: u32, blocks: u32 }
//! include plane_blocks
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> partial: array<vec2f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let mu = mean[wid.y];
  var sdy = vec4f(0.0);
  var sdyx = vec4f(0.0);
  for (var r = 0u; r < R; r++) {
    let a = address(wid.x, wid.y, lid.x, r);
    if (a != 0xffffffffu) {
      let g = dy4[a];
      sdy += g;
      sdyx += g * (x4[a] - mu);
    }
  }
  partial[(wid.y * p.blocks + wid.x) * 64u + lid.x] =
    vec2f(sdy.x + sdy.y + sdy.z + sdy.w, sdyx.x + sdyx.y + sdyx.z + sdyx.w);
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let mu = mean[wid.y];
  var s = vec2f(0.0);
  for (var r = 0u; r < R; r++) {
    let a = address(wid.x, wid.y, lid.x, r);
    if (a != 0xffffffffu) {
      let g = dy1[a];
      s += vec2f(g, g * (x1[a] - mu));
    }
  }
  partial[(wid.y * p.blocks + wid.x) * 64u + lid.x] = s;
}
