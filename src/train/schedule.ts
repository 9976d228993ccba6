// Learning rate at each step: linear warm-up, then step, cosine or polynomial decay.
import type { TrainConfig } from "./config.ts";

/** The rate for 0-based `step` of a `total`-step run with `stepsPerEpoch` steps an epoch. */
export function learningRate(
  c: TrainConfig,
  step: number,
  total: number,
  stepsPerEpoch: number,
): number {
  const warm = Math.min(c.warmup_steps, total);
  if (step < warm) return c.lr * (0.01 + 0.99 * (step / warm));
  const t = Math.min(1, (step - warm) / Math.max(1, total - warm));
  switch (c.schedule) {
    case "step": {
      const at = c.milestones.length > 0
        ? c.milestones.map((e) => e * stepsPerEpoch)
        : [0.5 * total, 0.75 * total];
      return c.lr * c.gamma ** at.filter((s) => step >= s).length;
    }
    case "cosine":
      return c.lr * 0.5 * (1 + Math.cos(Math.PI * t));
    case "poly":
      return c.lr * (1 - t) ** c.power;
  }
}
