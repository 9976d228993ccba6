// CPU reference for 2-D convolution (NCHW activations, OIHW weights, no bias): plain loops
// in float64, the ground truth the GPU kernels (src/gpu/ops/conv2d.ts) are tested against.

/**
 * A convolution layer applied to a batch: x [N, Cin, H, W] * w [Cout, Cin/groups, kh, kw]
 * → y [N, Cout, OH, OW]. Input channels and output channels are split into `groups` equal
 * parts; output group g sees only input group g (groups = Cin = Cout is depthwise).
 */
export interface Conv2dShape {
  N: number;
  Cin: number;
  H: number;
  W: number;
  Cout: number;
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  groups: number;
}

/** Output height and width: ⌊(H + 2·pad − kh) / stride⌋ + 1 (and the same across). */
export function conv2dOutputSize(s: Conv2dShape): { OH: number; OW: number } {
  return {
    OH: Math.floor((s.H + 2 * s.pad - s.kh) / s.stride) + 1,
    OW: Math.floor((s.W + 2 * s.pad - s.kw) / s.stride) + 1,
  };
}

/** Throws with the offending numbers unless the shape describes a valid convolution. */
export function checkConv2dShape(s: Conv2dShape, where = "conv2d"): void {
  const ints = [s.N, s.Cin, s.H, s.W, s.Cout, s.kh, s.kw, s.stride, s.groups];
  if (ints.some((v) => !Number.isInteger(v) || v < 1) || !Number.isInteger(s.pad) || s.pad < 0) {
    throw new Error(
      `${where}: sizes must be positive integers and pad ≥ 0 (got ${JSON.stringify(s)})`,
    );
  }
  if (s.Cin % s.groups !== 0 || s.Cout % s.groups !== 0) {
    throw new Error(
      `${where}: Cin ${s.Cin} and Cout ${s.Cout} must both divide into ${s.groups} groups`,
    );
  }
  const { OH, OW } = conv2dOutputSize(s);
  if (OH < 1 || OW < 1) {
    throw new Error(
      `${where}: a ${s.kh}×${s.kw} kernel with pad ${s.pad} does not fit a ${s.H}×${s.W} input`,
    );
  }
}

/** Element counts of x, w and y. */
export function conv2dSizes(s: Conv2dShape): { x: number; w: number; y: number } {
  const { OH, OW } = conv2dOutputSize(s);
  return {
    x: s.N * s.Cin * s.H * s.W,
    w: s.Cout * (s.Cin / s.groups) * s.kh * s.kw,
    y: s.N * s.Cout * OH * OW,
  };
}

/** y[n, co, oh, ow] = Σ_{ci in group, ky, kx} x[n, ci, oh·s − p + ky, ow·s − p + kx] · w[co, ci', ky, kx]. */
export function conv2dForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  s: Conv2dShape,
): Float64Array {
  checkConv2dShape(s);
  const { N, Cin, H, W, Cout, kh, kw, stride, pad, groups } = s;
  const { OH, OW } = conv2dOutputSize(s);
  const cig = Cin / groups, cog = Cout / groups;
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / cog);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let sum = 0;
          for (let c = 0; c < cig; c++) {
            const ci = g * cig + c;
            for (let ky = 0; ky < kh; ky++) {
              const ih = oh * stride - pad + ky;
              if (ih < 0 || ih >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const iw = ow * stride - pad + kx;
                if (iw < 0 || iw >= W) continue;
                sum += x[((n * Cin + ci) * H + ih) * W + iw] *
                  w[((co * cig + c) * kh + ky) * kw + kx];
              }
            }
          }
          y[((n * Cout + co) * OH + oh) * OW + ow] = sum;
        }
      }
    }
  }
  return y;
}

/**
 * dx = ∂L/∂x for L = Σ dy ⊙ conv2dForward(x, w): each output gradient flows back to the
 * input pixels its window covered (scatter form, the independent counterpart of the
 * gather form the GPU uses).
 */
export function conv2dBackwardInput(
  dy: ArrayLike<number>,
  w: ArrayLike<number>,
  s: Conv2dShape,
): Float64Array {
  checkConv2dShape(s);
  const { N, Cin, H, W, Cout, kh, kw, stride, pad, groups } = s;
  const { OH, OW } = conv2dOutputSize(s);
  const cig = Cin / groups, cog = Cout / groups;
  const dx = new Float64Array(N * Cin * H * W);
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / cog);
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const d = dy[((n * Cout + co) * OH + oh) * OW + ow];
          for (let c = 0; c < cig; c++) {
            const ci = g * cig + c;
            for (let ky = 0; ky < kh; ky++) {
              const ih = oh * stride - pad + ky;
              if (ih < 0 || ih >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const iw = ow * stride - pad + kx;
                if (iw < 0 || iw >= W) continue;
                dx[((n * Cin + ci) * H + ih) * W + iw] += d *
                  w[((co * cig + c) * kh + ky) * kw + kx];
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/** dw = ∂L/∂w: for each weight, Σ over batch and output pixels of dy · the input it saw. */
export function conv2dBackwardWeight(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  s: Conv2dShape,
): Float64Array {
  checkConv2dShape(s);
  const { N, Cin, H, W, Cout, kh, kw, stride, pad, groups } = s;
  const { OH, OW } = conv2dOutputSize(s);
  const cig = Cin / groups, cog = Cout / groups;
  const dw = new Float64Array(Cout * cig * kh * kw);
  for (let co = 0; co < Cout; co++) {
    const g = Math.floor(co / cog);
    for (let c = 0; c < cig; c++) {
      const ci = g * cig + c;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          let sum = 0;
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * stride - pad + ky;
              if (ih < 0 || ih >= H) continue;
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * stride - pad + kx;
                if (iw < 0 || iw >= W) continue;
                sum += dy[((n * Cout + co) * OH + oh) * OW + ow] *
                  x[((n * Cin + ci) * H + ih) * W + iw];
              }
            }
          }
          dw[((co * cig + c) * kh + ky) * kw + kx] = sum;
        }
      }
    }
  }
  return dw;
}
