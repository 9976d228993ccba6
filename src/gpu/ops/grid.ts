// Dispatch geometry shared by the layer ops: grids folded into two dimensions so that no
// dimension exceeds maxComputeWorkgroupsPerDimension (65535), the element-wise vec4/scalar
// choice, and a tiny placeholder tensor for bindings a kernel variant leaves unused.
import type { Gpu, Tensor } from "../device.ts";

/** [x, y] with x·y ≥ groups and x within the device limit; kernels use wid.x + wid.y·x. */
export function grid2d(gpu: Gpu, groups: number): [number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/** Invocations per workgroup of the element-wise kernels (64 suits llvmpipe's 8-wide lanes). */
export const ELEMENTWISE_WG = 64;

/**
 * The entry point and work-item count of an element-wise kernel over `n` floats: `main`
 * reads and writes vec4s (about twice as fast on llvmpipe) when n is a multiple of 4,
 * `scalar` takes one float per invocation otherwise.
 */
export function vectorWidth(n: number): { entry: "main" | "scalar"; items: number; width: 1 | 4 } {
  return n % 4 === 0
    ? { entry: "main", items: n / 4, width: 4 }
    : { entry: "scalar", items: n, width: 1 };
}

/** Element-wise geometry: grid and the stride of its y dimension. */
export function elementwiseGrid(gpu: Gpu, items: number): { groups: [number, number]; gx: number } {
  const groups = grid2d(gpu, Math.ceil(items / ELEMENTWISE_WG));
  return { groups, gx: groups[0] };
}

const placeholders = new WeakMap<Gpu, { read: Tensor; write: Tensor }>();

/**
 * A 4-float tensor bound where a kernel variant declares a binding it never touches. One
 * buffer serves read-only bindings, another read-write ones: WebGPU rejects a buffer bound
 * both ways in one dispatch.
 */
export function placeholder(gpu: Gpu, access: "read" | "write" = "read"): Tensor {
  let p = placeholders.get(gpu);
  if (!p) {
    p = { read: gpu.tensor([4], "unused (read)"), write: gpu.tensor([4], "unused (write)") };
    placeholders.set(gpu, p);
  }
  return p[access];
}

/** Throws unless the tensor holds exactly `n` elements, naming the op and the argument. */
export function expectSize(op: string, name: string, t: Tensor, n: number): void {
  if (t.size !== n) {
    throw new Error(
      `${op}: ${name} has ${t.size} elements (shape ${t.shape.join("×")}), expected ${n}`,
    );
  }
}
