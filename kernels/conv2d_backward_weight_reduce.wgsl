// Second pass of the weight gradient: adds the per-chunk slices that
// conv2d_backward_weight.wgsl wrote, in chunk order (deterministic, no atomics), and
// scatters the packed columns back to OIHW:
//   dw[g·cog + co, ci, ky, kx] (+)= Σ_{s < splits} part[s, g, co, (ky·kw + kx)·Cp + ci]
//
// Bindings: 0 uniform Params; 1 part (f32, read); 2 dw (f32, read_write).
// Grid: x = ⌈Cg·kh·kw / 64⌉ (one weight per invocation), y = G·cog; workgroup 64.

struct Params {
  Cg: u32,
  cog: u32,
  khw: u32,
  Cp: u32,
  splits: u32,
  groups: u32,
}

// Adds to dw instead of writing it (a constant: llvmpipe runs both sides of an if on a uniform).
override ACCUMULATE: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let e = wg.x * 64u + li;
  if (e >= p.Cg * p.khw) { return; }
  let ci = e / p.khw;
  let t = e - ci * p.khw;
  let row = wg.y; // g·cog + co, the same order as part's [g][co]
  let cols = p.khw * p.Cp;
  let slice = p.groups * p.cog * cols;
  let at = row * cols + t * p.Cp + ci;
  var sum = 0.0;
  for (var s = 0u; s < p.splits; s++) {
    sum += part[s * slice + at];
  }
  let o = row * p.Cg * p.khw + e;
  if (ACCUMULATE) { dw[o] += sum; } else { dw[o] = sum; }
}
