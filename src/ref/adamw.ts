// CPU reference of one AdamW step with PyTorch semantics (torch.optim.AdamW, amsgrad off):
// p = p − lr·wd·p (decay only where asked); m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p = p − lr·(m / (1−β1^t)) / (√(v / (1−β2^t)) + ε) for the 1-based step t; with the same
// gradient clipping and non-finite guard as SGD (src/ref/sgd.ts).
import { clipAndGuard } from "./sgd.ts";

export interface AdamwStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The decoupled weight decay rate. */
  weightDecay: number;
  /** 1-based step number (for the bias corrections). */
  t: number;
  /** Per element: 1 where weight decay applies, 0 elsewhere. */
  decay: ArrayLike<number>;
  clipNorm: number | null;
  /** Per element: 1 where the element counts in (and is scaled by) the clipping; default all. */
  clip?: ArrayLike<number>;
  loss: number;
}

export interface AdamwStepResult {
  param: Float64Array;
  /** First moments m, then second moments v (the GPU state buffer's layout). */
  state: Float64Array;
  gradNorm: number;
  clipGradNorm: number;
  scale: number;
  applied: boolean;
}

export function adamwStep(
  param: ArrayLike<number>,
  grad: ArrayLike<number>,
  state: ArrayLike<number>,
  o: AdamwStepOptions,
): AdamwStepResult {
  const n = param.length;
  if (state.length !== 2 * n) {
    throw new Error(`adamw: state has ${state.length} values, want ${2 * n}`);
  }
  const c = clipAndGuard(grad, o);
  const p = Float64Array.from(param), s = Float64Array.from(state);
  if (c.report.applied) {
    const c1 = 1 - o.beta1 ** o.t, c2 = 1 - o.beta2 ** o.t;
    for (let i = 0; i < n; i++) {
      const g = grad[i] * c.factor(i);
      if (o.decay[i]) p[i] -= o.lr * o.weightDecay * p[i];
      s[i] = o.beta1 * s[i] + (1 - o.beta1) * g;
      s[n + i] = o.beta2 * s[n + i] + (1 - o.beta2) * g * g;
      p[i] -= o.lr * (s[i] / c1) / (Math.sqrt(s[n + i] / c2) + o.eps);
    }
  }
  return { param: p, state: s, ...c.report };
}
