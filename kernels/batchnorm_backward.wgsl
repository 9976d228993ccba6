// Batch normalisation backward, pass 3 of 3: dx = k1·dy + k2 + k3·(x − mean) with the
// per-channel (k1, k2, k3, mean) of batchnorm_backward_combine (which fold in γ, invstd, dβ, dγ).
// Bindings: 0 uniform {items, gx}; 1 dy (read); 2 x (read); 3 dx (write), `items`
// vec4s (`main`, HW % 4 == 0, hwi = HW/4) or floats (`scalar`, hwi = HW), aliased;
// 4 coef (read, vec4 per channel).
// Grid: 2-D, 64 invocations per workgroup, PER consecutive items each (PER divides hwi),
// e = ((wid.x + wid.y·gx)·64 + lid)·PER + r, channel c = (e / hwi) % C.
struct Params { items: u32, gx: u32 }
// Shape constants: divisions by them compile to multiply-shift (a per-lane integer
// division by a runtime value costs more than the memory traffic on llvmpipe).
override HWI: u32 = 1u; // items per plane
override CH: u32 = 1u; // channels
// ALIGNED: HWI is a multiple of 64, so a workgroup's items share one channel, computed from
// the workgroup id: a uniform value, one broadcast load instead of a gather per lane.
override ALIGNED: bool = false;
// PER items per invocation, all of one plane (HWI % PER == 0): the channel's coefficients
// are read once for them (a per-lane fetch on llvmpipe, as costly as the item's own).
override PER: u32 = 1u;

/**
 * The invocation's first item e0 (it takes e0 … e0 + PER − 1) and their channel. With ALIGNED
 * the channel comes from the workgroup's first item: uniform across the workgroup.
 */
fn firstItem(wid: vec3u, lid: vec3u) -> vec2u {
  let base = (wid.x + wid.y * p.gx) * 64u * PER;
  let e0 = base + lid.x * PER;
  if (ALIGNED) { return vec2u(e0, (base / HWI) % CH); }
  return vec2u(e0, (e0 / HWI) % CH);
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx1: array<f32>;
@group(0) @binding(4) var<storage, read> coef: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coef[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    dx4[e] = k.x * dy4[e] + k.y + k.z * (x4[e] - k.w);
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let item = firstItem(wid, lid);
  if (item.x >= p.items) { return; }
  let k = coef[item.y];
  for (var r = 0u; r < PER; r++) {
    let e = item.x + r;
    dx1[e] = k.x * dy1[e] + k.y + k.z * (x1[e] - k.w);
  }
}
