// CPU reference of the residual add y = a + b and of gradient accumulation y += alpha·x
// (a residual block's input gradient is the sum of its two branches' gradients).

export function addForward(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`add: lengths ${a.length} and ${b.length} differ`);
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

/** y + alpha·x, as a new array (the GPU op updates y in place). */
export function addAccumulate(y: ArrayLike<number>, x: ArrayLike<number>, alpha = 1): Float64Array {
  if (y.length !== x.length) throw new Error(`add: lengths ${y.length} and ${x.length} differ`);
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] + alpha * x[i];
  return out;
}
