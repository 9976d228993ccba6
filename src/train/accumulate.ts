// Gradient accumulation over micro-batches (arcface_torch's gradient_acc): a step's batch
// runs as A equal parts, one after another through the same forward and backward, and
// after part k every gradient (and the head's statistics) goes into an average —
// sum = g/A after the first part, sum += g/A after the others — which the optimizer then
// reads instead of the raw gradients. Batch-norm statistics are each part's own, as in
// PyTorch. The adds run in part order, so the sums are deterministic.
import type { Dispatch, Gpu, Tensor } from "../gpu/device.ts";
import { addAccumulate } from "../gpu/ops/add.ts";
import type { ParamGroup } from "./optimizer.ts";

export interface Accumulation {
  /** The optimizer's groups, each `grad` replaced by its average over the parts. */
  groups: ParamGroup[];
  /** The average of the head's statistics tensor over the parts. */
  stats: Tensor;
  /** The dispatches to append after part `k`'s backward (0-based). */
  after(k: number): Dispatch[];
}

export async function buildAccumulation(
  gpu: Gpu,
  groups: readonly ParamGroup[],
  stats: Tensor,
  parts: number,
): Promise<Accumulation> {
  if (!(Number.isInteger(parts) && parts >= 2)) {
    throw new Error(`accumulation: parts must be an integer ≥ 2, got ${parts}`);
  }
  const pairs = [
    ...groups.map((g) => ({ x: g.grad, y: gpu.tensor([g.grad.size], `accumulated.${g.name}`) })),
    { x: stats, y: gpu.tensor([stats.size], "accumulated.stats") },
  ];
  const first: Dispatch[] = [], rest: Dispatch[] = [];
  for (const p of pairs) {
    first.push(...await addAccumulate(gpu, p, 1 / parts, true));
    rest.push(...await addAccumulate(gpu, p, 1 / parts));
  }
  return {
    groups: groups.map((g, i) => ({ ...g, grad: pairs[i].y })),
    stats: pairs[pairs.length - 1].y,
    after: (k) => (k === 0 ? first : rest),
  };
}
