// Shared by the per-channel reductions over NCHW planes (batch-norm statistics and backward
// sums, PReLU backward; `//! include plane_blocks`): shape constants and the item layout,
// R consecutive items of channel c per invocation, item k = (b·64 + lid)·R + r of the
// channel's N·HWI is plane n = k / HWI, offset k % HWI. The including kernel declares the
// uniform `p` with an `N` field.
// Shape constants: divisions by them compile to multiply-shift (a per-lane integer
// division by a runtime value costs more than the memory traffic on llvmpipe).
override HWI: u32 = 1u; // items per plane
override CH: u32 = 1u; // channels

const R = 8u;

/** Address of item r of this invocation, or 0xffffffff past the channel's end. */
fn address(b: u32, c: u32, lid: u32, r: u32) -> u32 {
  let k = (b * 64u + lid) * R + r;
  if (k >= p.N * HWI) { return 0xffffffffu; }
  let n = k / HWI;
  return (n * CH + c) * HWI + (k - n * HWI);
}
