// CPU reference of ReLU: y = max(x, 0); the gradient passes where x > 0 (PyTorch: zero at 0).

export function reluForward(x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
  return y;
}

export function reluBackward(dy: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
  return dx;
}
