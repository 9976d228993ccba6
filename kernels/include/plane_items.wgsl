// Shared by the per-channel apply passes over NCHW planes (batch-norm forward, backward and
// inference; PReLU forward; `//! include plane_items`): shape constants and the item layout,
// items e = ((wid.x + wid.y·gx)·64 + lid)·PER + r of channel (e / HWI) % CH. The including
// kernel declares the uniform `p` with a `gx` field.
// Shape constants: divisions by them compile to multiply-shift (a per-lane integer
// division by a runtime value costs more than the memory traffic on llvmpipe).
override HWI: u32 = 1u; // items per plane
override CH: u32 = 1u; // channels
// ALIGNED: HWI is a multiple of 64·PER, so a workgroup's items share one channel, computed
// from the workgroup id: a uniform value, one broadcast load instead of a gather per lane.
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
