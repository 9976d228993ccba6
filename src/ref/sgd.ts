// CPU reference of one SGD step with PyTorch semantics (torch.optim.SGD, dampening 0, no
// Nesterov): g' = g·clip + wd·p (decay only where asked), v = μ·v + g', p = p − lr·v; with
// optional gradient-norm clipping as torch.nn.utils.clip_grad_norm_ (scale = min(1,
// max / (‖g‖ + 1e-6)) over the clipped parameters) and the non-finite guard: when the loss or
// the gradient norm is not finite, nothing changes and the step is reported as skipped.

export interface SgdStepOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Per element: 1 where weight decay applies (conv/linear/head weights), 0 elsewhere. */
  decay: ArrayLike<number>;
  /** Clip threshold on the gradient norm of the clipped elements, or null for no clipping. */
  clipNorm: number | null;
  /** Per element: 1 where the element counts in (and is scaled by) the clipping; default all. */
  clip?: ArrayLike<number>;
  /** The step's loss; a non-finite loss skips the update. */
  loss: number;
}

export interface SgdStepResult {
  param: Float64Array;
  momentum: Float64Array;
  /** ‖g‖ over every element (the guard's norm). */
  gradNorm: number;
  /** ‖g‖ over the clipped elements. */
  clipGradNorm: number;
  /** The factor applied to the clipped gradients (1 without clipping). */
  scale: number;
  /** False when the guard skipped the step. */
  applied: boolean;
}

export function sgdStep(
  param: ArrayLike<number>,
  grad: ArrayLike<number>,
  momentum: ArrayLike<number>,
  o: SgdStepOptions,
): SgdStepResult {
  const n = param.length;
  const c = clipAndGuard(grad, o);
  const p = Float64Array.from(param), v = Float64Array.from(momentum);
  if (c.report.applied) {
    for (let i = 0; i < n; i++) {
      const g = grad[i] * c.factor(i) + (o.decay[i] ? o.weightDecay * p[i] : 0);
      v[i] = o.momentum * v[i] + g;
      p[i] -= o.lr * v[i];
    }
  }
  return { param: p, momentum: v, ...c.report };
}

/**
 * What every optimizer step shares: the gradient norms, the clipping scale of
 * torch.nn.utils.clip_grad_norm_ over the clipped elements, and the non-finite guard.
 */
export function clipAndGuard(
  grad: ArrayLike<number>,
  o: { clipNorm: number | null; clip?: ArrayLike<number>; loss: number },
): {
  /** Norms, clipping scale, and whether the step is applied (loss and norm finite). */
  report: { gradNorm: number; clipGradNorm: number; scale: number; applied: boolean };
  /** The factor for element i's gradient (the scale when it is clipped, else 1). */
  factor: (i: number) => number;
} {
  const inClip = (i: number) => (o.clip ? o.clip[i] !== 0 : true);
  let sq = 0, clipSq = 0;
  for (let i = 0; i < grad.length; i++) {
    sq += grad[i] * grad[i];
    if (inClip(i)) clipSq += grad[i] * grad[i];
  }
  const gradNorm = Math.sqrt(sq), clipGradNorm = Math.sqrt(clipSq);
  const scale = o.clipNorm === null ? 1 : Math.min(1, o.clipNorm / (clipGradNorm + 1e-6));
  const applied = Number.isFinite(o.loss) && Number.isFinite(gradNorm);
  return {
    report: { gradNorm, clipGradNorm, scale, applied },
    factor: (i) => (inClip(i) ? scale : 1),
  };
}
