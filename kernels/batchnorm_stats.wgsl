// Batch normalisation, training forward, pass 1 of 3: per-invocation statistics of a few
// values of one channel, for batchnorm_combine to merge. Each invocation takes R = 8
// consecutive items (vec4s for `main`, floats for `scalar`) of channel c's N·hwi items and
// writes (count, mean, M2), M2 = Σ(x − mean)², from sums of x − pivot (the invocation's first
// value: its 8 or 32 neighbouring values do not cancel badly); the exact pairwise merge in
// batchnorm_combine keeps the channel variance accurate whatever the channel's offset. No workgroup
// barriers: on llvmpipe they cost more than the arithmetic.
// Bindings: 0 uniform {N, blocks}; 1 x (read, NCHW; `main` vec4 when HW % 4 == 0,
// hwi = HW/4, else `scalar`, hwi = HW); 2 partial (write, vec4 per invocation:
// partial[(c·blocks + b)·64 + lid]). Entry points alias binding 1.
// Grid: (blocks, C) workgroups of 64, blocks = ceil(N·hwi / 512); item k = (b·64 + lid)·8 + r
// is plane n = k / hwi, offset i = k % hwi, address (n·C + c)·hwi + i.
struct Params { N: u32, blocks: u32 }
//! include plane_blocks
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<vec4f>;

/** (n, mean, M2, 0) from sums of d = x − pivot: mean = pivot + Σd/n, M2 = Σd² − (Σd)²/n. */
fn moments(n: f32, pivot: f32, s1: f32, s2: f32) -> vec4f {
  if (n == 0.0) { return vec4f(0.0); }
  return vec4f(n, pivot + s1 / n, max(0.0, s2 - s1 * s1 / n), 0.0);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var count = 0u;
  var pivot = 0.0;
  var s1 = vec4f(0.0);
  var s2 = vec4f(0.0);
  for (var r = 0u; r < R; r++) {
    let a = address(wid.x, wid.y, lid.x, r);
    if (a != 0xffffffffu) {
      let v = x4[a];
      if (count == 0u) { pivot = v.x; }
      let d = v - pivot;
      s1 += d;
      s2 += d * d;
      count++;
    }
  }
  partial[(wid.y * p.blocks + wid.x) * 64u + lid.x] = moments(f32(4u * count), pivot, s1.x + s1.y + s1.z + s1.w, s2.x + s2.y + s2.z + s2.w);
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  var count = 0u;
  var pivot = 0.0;
  var s1 = 0.0;
  var s2 = 0.0;
  for (var r = 0u; r < R; r++) {
    let a = address(wid.x, wid.y, lid.x, r);
    if (a != 0xffffffffu) {
      let v = x1[a];
      if (count == 0u) { pivot = v; }
      s1 += v - pivot;
      s2 += (v - pivot) * (v - pivot);
      count++;
    }
  }
  partial[(wid.y * p.blocks + wid.x) * 64u + lid.x] = moments(f32(count), pivot, s1, s2);
}
