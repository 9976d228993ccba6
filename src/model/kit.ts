// The layer operations the model graph is compiled to, as one interface: the single place
// where the graph meets the GPU op builders of src/gpu/ops/ (see gpu_kit.ts). Every call
// is made once at build time and returns dispatches replayed every step.
import type { Dispatch, Tensor } from "../gpu/device.ts";
import type { Conv2dLayer } from "./network.ts";

export type ConvShape = Conv2dLayer["s"] & { N: number };
export interface ChannelShape {
  N: number;
  C: number;
  HW: number;
}
export interface BnShape extends ChannelShape {
  eps: number;
  momentum: number;
}

/** Per-channel statistics a training-mode BN forward saves for its backward. */
export interface BnSaved {
  mean: Tensor;
  invstd: Tensor;
}

export interface LayerKit {
  conv2dForward(t: { x: Tensor; w: Tensor; y: Tensor }, s: ConvShape): Promise<Dispatch[]>;
  /** dx = convᵀ(dy, w); adds into dx when `accumulate`. */
  conv2dBackwardInput(
    t: { dy: Tensor; w: Tensor; dx: Tensor },
    s: ConvShape,
    accumulate: boolean,
  ): Promise<Dispatch[]>;
  conv2dBackwardWeight(t: { dy: Tensor; x: Tensor; dw: Tensor }, s: ConvShape): Promise<Dispatch[]>;
  /** Training mode: batch statistics into `saved`, running averages updated in place. */
  batchnormTrain(
    t: {
      x: Tensor;
      gamma: Tensor;
      beta: Tensor;
      runningMean: Tensor;
      runningVar: Tensor;
      y: Tensor;
    } & BnSaved,
    s: BnShape,
  ): Promise<Dispatch[]>;
  batchnormInference(
    t: {
      x: Tensor;
      gamma: Tensor;
      beta: Tensor;
      runningMean: Tensor;
      runningVar: Tensor;
      y: Tensor;
    },
    s: BnShape,
  ): Promise<Dispatch[]>;
  batchnormBackward(
    t:
      & { dy: Tensor; x: Tensor; gamma: Tensor; dx: Tensor; dgamma: Tensor; dbeta: Tensor }
      & BnSaved,
    s: BnShape,
  ): Promise<Dispatch[]>;
  preluForward(t: { x: Tensor; slope: Tensor; y: Tensor }, s: ChannelShape): Promise<Dispatch[]>;
  preluBackward(
    t: { dy: Tensor; x: Tensor; slope: Tensor; dx: Tensor; dslope: Tensor },
    s: ChannelShape,
  ): Promise<Dispatch[]>;
  /** y = a + b. */
  add(t: { a: Tensor; b: Tensor; y: Tensor }): Promise<Dispatch[]>;
  /** y += x. */
  accumulate(t: { y: Tensor; x: Tensor }): Promise<Dispatch[]>;
  /** Inverted dropout whose mask depends on (seed, step, index, salt); `step` is a u32 the caller rewrites each step. */
  dropoutForward(
    t: { x: Tensor; y: Tensor; step: Tensor },
    s: { p: number; seed: number; salt: number },
  ): Promise<Dispatch[]>;
  dropoutBackward(
    t: { dy: Tensor; dx: Tensor; step: Tensor },
    s: { p: number; seed: number; salt: number },
  ): Promise<Dispatch[]>;
  /** y = x Wᵀ (+ b) with x [N, I], W [O, I]. */
  linearForward(
    t: { x: Tensor; w: Tensor; b: Tensor | null; y: Tensor },
    s: { N: number; I: number; O: number },
  ): Promise<Dispatch[]>;
  linearBackward(
    t: { dy: Tensor; x: Tensor; w: Tensor; dx: Tensor | null; dw: Tensor; db: Tensor | null },
    s: { N: number; I: number; O: number },
  ): Promise<Dispatch[]>;
}
